import {
  BadRequestException,
  Body,
  Controller,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { AuthError } from '../auth/auth-error.js';
import type { AuthUser } from '../auth/auth-user.js';
import { mintToken } from '../auth/token-minter.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { Notification } from '../notifications/notifications.events.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { DevNotifySchema } from './dto/dev-notify.schema.js';

const DEV_TOKEN_TTL_S = 3600;
const DEFAULT_NOTIFICATION = {
  type: 'demo.test',
  data: { message: 'A test notification from POST /dev/notify' },
} as const;

/**
 * Development-only routes for the demo page. They exist only while the server runs on its
 * generated development secret (or under NODE_ENV=test) and answer 404 otherwise: with a
 * configured secret, minting would let anyone sign in as anyone.
 */
@Controller('dev')
export class DevController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly notifications: NotificationsService,
  ) {}

  /** `{ sub, name }` → a token for the demo page. */
  @Post('token')
  @HttpCode(201)
  async token(@Body() body: unknown): Promise<{ token: string; expiresInS: number }> {
    const secret = this.devSecret();
    const { sub, name } = (body ?? {}) as { sub?: unknown; name?: unknown };
    const user = typeof sub === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(sub) ? sub : 'guest';
    const display = typeof name === 'string' && name.trim() ? name.trim().slice(0, 64) : user;
    const { issuer, audience } = this.config.auth;
    return {
      token: await mintToken({
        secret,
        sub: user,
        name: display,
        ttlS: DEV_TOKEN_TTL_S,
        issuer,
        audience,
      }),
      expiresInS: DEV_TOKEN_TTL_S,
    };
  }

  /** `{ type?, data? }` with the caller's token as `Authorization: Bearer`: a notification to that same user. */
  @Post('notify')
  @HttpCode(202)
  async notify(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ): Promise<Notification> {
    this.devSecret();
    const user = await this.caller(authorization);
    const parsed = DevNotifySchema.safeParse(body ?? {});
    if (!parsed.success) {
      const [issue] = parsed.error.issues;
      const path = issue?.path.join('.');
      const message = issue ? (path ? `${path}: ${issue.message}` : issue.message) : 'bad body';
      throw new BadRequestException({ code: 'VALIDATION', message });
    }
    const { type = DEFAULT_NOTIFICATION.type, data = DEFAULT_NOTIFICATION.data } = parsed.data;
    return this.notifications.notifyUser(user.id, type, data);
  }

  private devSecret(): string {
    const { secret, devTokenRoute } = this.config.auth;
    if (!devTokenRoute || secret === undefined) throw new NotFoundException();
    return secret;
  }

  private async caller(authorization: string | undefined): Promise<AuthUser> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    try {
      if (!bearer) throw new AuthError('missing_token');
      return await this.verifier.verify(bearer[1]);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      throw new UnauthorizedException({
        code: 'UNAUTHORIZED',
        reason: error.reason,
        message: 'a valid access token is needed as Authorization: Bearer',
      });
    }
  }
}
