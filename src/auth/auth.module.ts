import { Module } from '@nestjs/common';
import { HandshakeAuthenticator } from './handshake-authenticator.js';
import { TokenVerifier } from './token-verifier.js';

@Module({
  providers: [TokenVerifier, HandshakeAuthenticator],
  exports: [TokenVerifier, HandshakeAuthenticator],
})
export class AuthModule {}
