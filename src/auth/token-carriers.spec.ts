import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { tokenFromAuth, tokenFromRequest, TOKEN_SUBPROTOCOL } from './token-carriers.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const HANDSHAKE_PATH = '/socket.io/?EIO=4&transport=websocket';

function request(headers: IncomingHttpHeaders, url = HANDSHAKE_PATH): IncomingMessage {
  return { headers, url } as IncomingMessage;
}

describe('tokenFromAuth (the socket.io client `auth` option)', () => {
  it('takes auth.token', () => {
    expect(tokenFromAuth({ token: JWT })).toBe(JWT);
  });

  it('is undefined when there is no token', () => {
    expect(tokenFromAuth(undefined)).toBeUndefined();
    expect(tokenFromAuth(null)).toBeUndefined();
    expect(tokenFromAuth('a string')).toBeUndefined();
    expect(tokenFromAuth({})).toBeUndefined();
    expect(tokenFromAuth({ token: undefined })).toBeUndefined();
  });

  it("is '' (present but malformed) when the token is not a string", () => {
    expect(tokenFromAuth({ token: 42 })).toBe('');
    expect(tokenFromAuth({ token: null })).toBe('');
    expect(tokenFromAuth({ token: { jwt: JWT } })).toBe('');
  });
});

describe('tokenFromRequest (tokens carried by the HTTP handshake)', () => {
  it('takes an Authorization: Bearer header, whatever the case of the scheme', () => {
    expect(tokenFromRequest(request({ authorization: `Bearer ${JWT}` }))).toBe(JWT);
    expect(tokenFromRequest(request({ authorization: `bearer   ${JWT}  ` }))).toBe(JWT);
  });

  it("is '' (present but malformed) for a Bearer header without a token", () => {
    expect(tokenFromRequest(request({ authorization: 'Bearer' }))).toBe('');
    expect(tokenFromRequest(request({ authorization: 'Bearer   ' }))).toBe('');
  });

  it('ignores other Authorization schemes, such as the Basic credentials a browser adds', () => {
    expect(tokenFromRequest(request({ authorization: 'Basic YWxpY2U6c2VjcmV0' }))).toBeUndefined();
    expect(tokenFromRequest(request({ authorization: JWT }))).toBeUndefined();
  });

  it('takes the token from the `access_token, <jwt>` subprotocol pair', () => {
    const headers = { 'sec-websocket-protocol': `${TOKEN_SUBPROTOCOL}, ${JWT}` };
    expect(tokenFromRequest(request(headers))).toBe(JWT);
  });

  it("is '' when the access_token subprotocol comes without a token", () => {
    const headers = { 'sec-websocket-protocol': TOKEN_SUBPROTOCOL };
    expect(tokenFromRequest(request(headers))).toBe('');
  });

  it('ignores subprotocols that do not start with access_token', () => {
    const headers = { 'sec-websocket-protocol': `graphql-ws, ${TOKEN_SUBPROTOCOL}` };
    expect(tokenFromRequest(request(headers))).toBeUndefined();
  });

  it('takes the access_token query parameter', () => {
    expect(tokenFromRequest(request({}, `${HANDSHAKE_PATH}&access_token=${JWT}`))).toBe(JWT);
    expect(tokenFromRequest(request({}, `/socket.io/?access_token=${JWT}&EIO=4`))).toBe(JWT);
  });

  it("is '' for an empty access_token query parameter", () => {
    expect(tokenFromRequest(request({}, `${HANDSHAKE_PATH}&access_token=`))).toBe('');
  });

  it('is undefined when the request carries no token', () => {
    expect(tokenFromRequest(request({}))).toBeUndefined();
    expect(tokenFromRequest(request({}, '/socket.io/'))).toBeUndefined();
    expect(tokenFromRequest(request({}, `${HANDSHAKE_PATH}&not_access_token=x`))).toBeUndefined();
    expect(tokenFromRequest({ headers: {} } as IncomingMessage)).toBeUndefined();
  });

  describe('precedence: header, then subprotocol, then query', () => {
    const subprotocol = { 'sec-websocket-protocol': `${TOKEN_SUBPROTOCOL}, from-subprotocol` };
    const withQuery = `${HANDSHAKE_PATH}&access_token=from-query`;

    it('the Authorization header wins over the subprotocol and the query', () => {
      const req = request({ authorization: 'Bearer from-header', ...subprotocol }, withQuery);
      expect(tokenFromRequest(req)).toBe('from-header');
    });

    it('a Basic Authorization header leaves the other carriers in charge', () => {
      const req = request({ authorization: 'Basic abc', ...subprotocol }, withQuery);
      expect(tokenFromRequest(req)).toBe('from-subprotocol');
    });

    it('the subprotocol wins over the query', () => {
      expect(tokenFromRequest(request(subprotocol, withQuery))).toBe('from-subprotocol');
    });
  });
});
