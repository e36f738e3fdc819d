import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';

/**
 * Every /api error as `{ code, message }`; other routes keep NestJS's answer. Global (an
 * `APP_FILTER`), because a body that is not JSON is refused by the body parser before any
 * route, and only global filters see that.
 */
@Catch(HttpException)
export class ApiErrorFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    if (!http.getRequest<Request>().originalUrl.startsWith('/api/')) {
      super.catch(exception, host);
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
  if (status === 503) return 'UNAVAILABLE';
  return status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
}
