import { CHAT_NAMESPACE } from '../src/chat/chat.events.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type Notification,
} from '../src/notifications/notifications.events.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';

describe('/notifications', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());
  afterEach(() => closeAllClients());

  const subscribe = async (sub: string) =>
    connectClient(server.url, NOTIFICATIONS_NAMESPACE, {
      auth: { token: await server.token(sub) },
    });

  it('notifyUser reaches every socket of that user and nobody else', async () => {
    const [aliceTab1, aliceTab2, bob] = await Promise.all([
      subscribe('alice'),
      subscribe('alice'),
      subscribe('bob'),
    ]);
    const bobGot = record<Notification>(bob, NotificationEvent.Notification);
    const tab1 = waitFor<Notification>(aliceTab1, NotificationEvent.Notification);
    const tab2 = waitFor<Notification>(aliceTab2, NotificationEvent.Notification);

    const sent = await server.app
      .get(NotificationsService)
      .notifyUser('alice', 'invoice.paid', { invoiceId: 'inv_42' });

    const expected = {
      id: sent.id,
      type: 'invoice.paid',
      data: { invoiceId: 'inv_42' },
      ts: sent.ts,
    };
    expect(await tab1).toEqual(expected);
    expect(await tab2).toEqual(expected);
    const barrier = waitFor<Notification>(bob, NotificationEvent.Notification);
    await server.app.get(NotificationsService).notifyUser('bob', 'barrier', null);
    await barrier;
    expect(bobGot.map((n) => n.type)).toEqual(['barrier']);
  });

  it('a client cannot send anything on /notifications', async () => {
    const alice = await subscribe('alice');
    expect(await alice.emitWithAck('notification', { type: 'spoof' })).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: 'Unknown event' },
    });
  });

  it('a user connected on /chat and /notifications over one connection gets notifications', async () => {
    const token = await server.token('carol');
    const chat = await connectClient(server.url, CHAT_NAMESPACE, {
      auth: { token },
      forceNew: false,
    });
    const notifications = chat.io.socket(NOTIFICATIONS_NAMESPACE, { auth: { token } });
    await waitFor(notifications, 'connect');
    const got = waitFor<Notification>(notifications, NotificationEvent.Notification);
    await server.app.get(NotificationsService).notifyUser('carol', 'mention', { room: 'lobby' });
    expect((await got).type).toBe('mention');
    notifications.disconnect();
  });
});
