import type { UserRef } from '../../chat/chat.events.js';
import { ChatConnection } from './chat-connection.js';
import { ChatView } from './chat-view.js';
import { mintDevToken, readClaims } from './dev-token.js';
import { element } from './dom.js';

const tokenField = element('token', HTMLTextAreaElement);
const subField = element('sub', HTMLInputElement);
const nameField = element('name', HTMLInputElement);
const roomField = element('room', HTMLInputElement);
const textField = element('message-text', HTMLInputElement);

let connection: ChatConnection | undefined;
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

async function mint(): Promise<void> {
  try {
    const { token, expiresInS } = await mintDevToken(subField.value.trim(), nameField.value.trim());
    tokenField.value = token;
    const who = readClaims(token)?.name ?? 'guest';
    view.info(
      `Minted a development token for ${who}, valid for ${Math.round(expiresInS / 60)} min.`,
    );
  } catch (error) {
    view.onProblem({ action: 'POST /dev/token', code: 'HTTP', message: messageOf(error) });
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
  connection = new ChatConnection(
    { token: () => tokenField.value.trim(), self, rooms: view.joinedRooms },
    view,
  );
  connection.open();
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
