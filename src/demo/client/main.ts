import {
  newClientMsgId,
  type PresenceState,
  RoomResume,
  type UserRef,
} from '@nest-realtime-starter/client';
import { ChatConnection, type TokenRefusal } from './chat-connection.js';
import { ChatView } from './chat-view.js';
import { DevRoutesUnavailable, mintDevToken, sendDevNotification } from './dev-token.js';
import { element } from './dom.js';
import { InboxView } from './inbox-view.js';
import { dmRoom } from './rooms.js';
import { isStatus, type Status } from './status.js';
import { readClaims } from './token-claims.js';
import { TypingNotifier } from './typing.js';

/** Why a token is turned down that a new token from the same server cures. */
const RENEWABLE = new Set(['invalid_signature', 'token_expired']);
/** Where everyone lands after signing in. */
const FIRST_ROOM = 'lobby';
const NAME_KEY = 'demo.name';

const nameField = element('name', HTMLInputElement);
const subField = element('sub', HTMLInputElement);
const tokenField = element('token', HTMLTextAreaElement);
const advanced = element('advanced', HTMLDetailsElement);
const roomField = element('room', HTMLInputElement);
const textField = element('message-text', HTMLInputElement);
const statusField = element('my-status', HTMLSelectElement);

let connection: ChatConnection | undefined;
let self: UserRef | undefined;
/** The open rooms and the last message seen in each: kept across connections of one user. */
let rooms = new RoomResume();
let status: Status = 'available';
/** Whether this server mints dev tokens, once a mint told: it then also restarts often. */
let devTokens: boolean | undefined;
/** The token this page minted last: renewable even before it was ever accepted. */
let minted: string | undefined;

const typing = new TypingNotifier((room, on) => connection?.typing(room, on));
const view = new ChatView({
  leave: (room) => void connection?.leave(room),
  openDm: (user) => void openDm(user),
  retry: (room, clientMsgId, text) => void deliver(room, text, clientMsgId),
  selected: () => typing.stop(),
});
const inbox = new InboxView({
  connection: () => connection,
  sendTest: () => void notifyMe(),
  problem: (problem) => view.onProblem(problem),
});

nameField.value = remembered() ?? '';
element('sign-in-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn();
});
element('connect', HTMLButtonElement).addEventListener('click', connect);
element('sign-out', HTMLButtonElement).addEventListener('click', signOut);
element('join-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void join();
});
element('send-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});
textField.addEventListener('input', () => typing.typed(view.activeRoom, textField.value === ''));
statusField.addEventListener('change', () => void changeStatus());

/** Enter: the server mints a development token for this name, and the page connects with it. */
async function signIn(): Promise<void> {
  const name = nameField.value.trim();
  if (name === '') return;
  remember(name);
  try {
    const { token } = await mintDevToken(subField.value.trim() || userIdFrom(name), name);
    devTokens = true;
    minted = token;
    tokenField.value = token;
    view.info('');
    connect();
  } catch (error) {
    const unavailable = error instanceof DevRoutesUnavailable;
    if (unavailable) devTokens = false;
    advanced.open ||= unavailable;
    view.error(`Cannot sign in: ${messageOf(error)}.`);
  }
}

function connect(): void {
  const claims = readClaims(tokenField.value.trim());
  if (claims === undefined) {
    advanced.open = true;
    view.info('Enter your name, or paste a JWT into the token field.');
    return;
  }
  const user: UserRef = { id: claims.sub, name: claims.name };
  if (self?.id !== user.id) {
    rooms = new RoomResume();
    inbox.reset();
  }
  self = user;
  if (rooms.rooms().length === 0) rooms.open(FIRST_ROOM);
  connection?.close();
  view.showChat(user);
  const opened: ChatConnection = new ChatConnection(
    {
      token: () => tokenField.value.trim(),
      self: user,
      rooms,
      state: () => (status === 'available' ? undefined : stateOf(status)),
      fastReconnect: devTokens === true,
      onTokenRefused: (refusal) => void renew(opened, refusal),
    },
    view,
    inbox,
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
  const renewable = RENEWABLE.has(reason) && (accepted || token === minted);
  if (claims === undefined || !renewable)
    return tokenNeeded(reason, 'Enter your name for a development token, or paste another token');
  view.onState({ kind: 'renewing', reason });
  try {
    const { token: fresh } = await mintDevToken(claims.sub, claims.name);
    if (connection !== refused) return;
    devTokens = true;
    minted = fresh;
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
        : `Minting one failed (${message}): paste another token`,
    );
  }
}

/** Back to the sign-in card, with the token field open. */
function tokenNeeded(reason: string, advice: string): void {
  view.onState({ kind: 'unauthorized', reason });
  view.showSignIn();
  advanced.open = true;
  view.error(`The server refused the token (${reason}); a new one is needed. ${advice}.`);
}

function signOut(): void {
  typing.stop();
  connection?.close();
  connection = undefined;
  self = undefined;
  rooms = new RoomResume();
  status = 'available';
  statusField.value = status;
  view.showStatus(status);
  view.reset();
  inbox.reset();
  view.showSignIn();
  view.info('');
}

async function join(): Promise<void> {
  const room = roomField.value.trim();
  if (room !== '' && (await open(room))) roomField.value = '';
}

async function openDm(user: UserRef): Promise<void> {
  const room = self && dmRoom(self.id, user.id);
  if (room !== undefined) await open(room);
}

/** Opens a room and shows it; a refusal is shown in its place. */
async function open(room: string): Promise<boolean> {
  if (connection === undefined) return false;
  const refused = await connection.join(room);
  if (refused === undefined) view.selectRoom(room);
  else view.showRefusal(room, refused);
  return refused === undefined;
}

async function send(): Promise<void> {
  const room = view.activeRoom;
  const text = textField.value;
  if (connection === undefined || room === undefined || text.trim() === '') return;
  textField.value = '';
  typing.stop();
  await deliver(room, text, newClientMsgId());
}

/** One message, shown at once; its id stays the same through every retry. */
async function deliver(room: string, text: string, clientMsgId: string): Promise<void> {
  if (connection === undefined) return;
  view.sending(room, clientMsgId, text);
  const result = await connection.send(room, text, clientMsgId);
  if (result.ok) return view.sent(room, clientMsgId, result);
  view.notSent(room, clientMsgId, text);
  view.onProblem(result);
}

async function changeStatus(): Promise<void> {
  if (!isStatus(statusField.value)) return;
  status = statusField.value;
  view.showStatus(status);
  await connection?.setState(stateOf(status));
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

function stateOf(status: Status): PresenceState {
  return { status };
}

/** A user id the dev token route takes (A-Z a-z 0-9 _ . -), the same for the same name. */
function userIdFrom(name: string): string {
  const id = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  if (id !== '') return id;
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return `user-${hash.toString(36)}`;
}

/** The name entered last time; storage may be off (private windows), which only loses that. */
function remembered(): string | null {
  try {
    return localStorage.getItem(NAME_KEY);
  } catch {
    return null;
  }
}

function remember(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // Not remembered: the field starts empty next time.
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
