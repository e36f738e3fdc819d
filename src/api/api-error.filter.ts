import { type ArgumentsHost, Catch, HttpException, Inject } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { APP_LOGGER } from '../logging/logging.module.js';

/**
 * Every /api error as `{ code, message }`; other routes keep NestJS's answer. Global (an
 * `APP_FILTER`), because a body that is not JSON is refused by the body parser before any
 * route, and only global filters see that.
 */
@Catch()
export class ApiErrorFilter extends BaseExceptionFilter {
  constructor(@Inject(APP_LOGGER) private readonly logger: Logger) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    if (!request.originalUrl.startsWith('/api/')) {
      super.catch(exception, host);
      return;
    }
    if (!(exception instanceof HttpException)) {
      this.logger.error({ err: exception, path: request.path }, 'service API request failed');
      http
        .getResponse<Response>()
        .status(500)
        .json({ code: 'INTERNAL', message: 'Internal error' });
      return;
    }
    const status = exception.getStatus();
    const answer = exception.getResponse();
    const body =
      typeof answer === 'object' && 'code' in answer
        ? answer
        : { code: codeFor(status), message: exception.message };
    http.getResponse<Response>().status(status).json(body);
  }
}

function codeFor(status: number): string {
  if (status === 400) return 'VALIDATION';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 503) return 'UNAVAILABLE';
  return status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
}
