import type { UserRef } from '../../chat/chat.events.js';
import { ChatConnection, type TokenRefusal } from './chat-connection.js';
import { ChatView } from './chat-view.js';
import { DevRoutesUnavailable, mintDevToken, sendDevNotification } from './dev-token.js';
import { element } from './dom.js';
import { readClaims } from './token-claims.js';

/** Why a token is turned down that a new token from the same server cures. */
const RENEWABLE = new Set(['invalid_signature', 'token_expired']);

const tokenField = element('token', HTMLTextAreaElement);
const subField = element('sub', HTMLInputElement);
const nameField = element('name', HTMLInputElement);
const roomField = element('room', HTMLInputElement);
const textField = element('message-text', HTMLInputElement);

let connection: ChatConnection | undefined;
/** Whether this server mints dev tokens, once a mint told: it then also restarts often. */
let devTokens: boolean | undefined;
/** The token the Mint button got last: renewable even before it was ever accepted. */
let mintedByHand: string | undefined;
const view = new ChatView((room) => void connection?.leave(room));

element('mint-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void mint();
});
element('connect', HTMLButtonElement).addEventListener('click', connect);
element('disconnect', HTMLButtonElement).addEventListener('click', disconnect);
element('join-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void join();
});
element('send-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});
element('send-test-notification', HTMLButtonElement).addEventListener(
  'click',
  () => void notifyMe(),
);

async function mint(): Promise<void> {
  try {
    const { token, expiresInS } = await mintDevToken(subField.value.trim(), nameField.value.trim());
    devTokens = true;
    mintedByHand = token;
    tokenField.value = token;
    const who = readClaims(token)?.name ?? 'guest';
    view.info(
      `Minted a development token for ${who}, valid for ${Math.round(expiresInS / 60)} min.`,
    );
  } catch (error) {
    if (error instanceof DevRoutesUnavailable) devTokens = false;
    view.error(`Cannot mint: ${messageOf(error)}.`);
  }
}

function connect(): void {
  const token = tokenField.value.trim();
  const claims = readClaims(token);
  if (claims === undefined) {
    view.info('Mint a token first, or paste a JWT into the token field.');
    return;
  }
  const self: UserRef = { id: claims.sub, name: claims.name };
  connection?.close();
  const opened: ChatConnection = new ChatConnection(
    {
      token: () => tokenField.value.trim(),
      self,
      rooms: view.joinedRooms,
      fastReconnect: devTokens === true,
      onTokenRefused: (refusal) => void renew(opened, refusal),
    },
    view,
  );
  connection = opened;
  opened.open();
}

/**
 * A token the server took before (or that was just minted here) and now turns down was
 * signed with a secret the server no longer has, or has expired: a development server mints
 * a new one for the same user and the page connects again. Anything else needs the user.
 */
async function renew(
  refused: ChatConnection,
  { reason, token, accepted }: TokenRefusal,
): Promise<void> {
  const claims = readClaims(token);
  const renewable = RENEWABLE.has(reason) && (accepted || token === mintedByHand);
  if (claims === undefined || !renewable)
    return tokenNeeded(reason, 'Mint a new one or paste another');
  view.onState({ kind: 'renewing', reason });
  try {
    const { token: fresh } = await mintDevToken(claims.sub, claims.name);
    if (connection !== refused) return;
    devTokens = true;
    tokenField.value = fresh;
    connect();
    view.info(
      `The server turned the token down (${reason}): the page minted a new development ` +
        `token for ${claims.name}.`,
    );
  } catch (error) {
    const unavailable = error instanceof DevRoutesUnavailable;
    if (unavailable) devTokens = false;
    if (connection !== refused) return;
    const message = messageOf(error);
    tokenNeeded(
      reason,
      unavailable
        ? message.charAt(0).toUpperCase() + message.slice(1)
        : `Minting one failed (${message}): mint one or paste another`,
    );
  }
}

function tokenNeeded(reason: string, advice: string): void {
  view.onState({ kind: 'unauthorized', reason });
  view.error(
    `The server refused the token (${reason}); a new one is needed. ${advice}, then Connect.`,
  );
}

function disconnect(): void {
  connection?.close();
  connection = undefined;
}

async function join(): Promise<void> {
  const room = roomField.value.trim();
  if (connection === undefined || room === '') return;
  if (await connection.join(room)) view.selectRoom(room);
}

async function send(): Promise<void> {
  const room = view.activeRoom;
  const text = textField.value;
  if (connection === undefined || text.trim() === '') return;
  if (room === undefined) {
    view.info('Join a room first.');
    return;
  }
  if (await connection.send(room, text)) {
    textField.value = '';
    textField.focus();
  }
}

async function notifyMe(): Promise<void> {
  try {
    const { type } = await sendDevNotification(tokenField.value.trim());
    view.info(`Sent a test notification (${type}) to your own user on /notifications.`);
  } catch (error) {
    view.error(
      `Cannot send a test notification: ${
        error instanceof DevRoutesUnavailable
          ? 'this server has a configured JWT_SECRET (or JWKS) and no dev routes; ' +
            'your app sends notifications with NotificationsService'
          : messageOf(error)
      }.`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
