import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describeIssue } from '../gateway/payload-validation.pipe.js';

/** A request body or parameter checked against a schema: 400 `VALIDATION` when it fails. */
export class HttpValidationPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: StandardSchemaV1<unknown, T>) {}

  transform(value: unknown): T {
    const result = this.schema['~standard'].validate(value);
    if (result instanceof Promise)
      throw new TypeError('HttpValidationPipe needs a synchronous schema');
    if (result.issues)
      throw new BadRequestException({
        code: 'VALIDATION',
        message: describeIssue(result.issues[0]),
      });
    return result.value;
  }
}
