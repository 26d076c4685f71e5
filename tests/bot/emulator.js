// The Telegram Bot API emulator (telegram-test-api) on loopback, for the bot's end-to-end tests:
//   node emulator.js PORT   -> prints "ready" once listening; stops on SIGTERM.
// The emulator answers getUpdates at once even when nothing is waiting, which would turn a bot's long
// polling into a busy loop on the test machine: an empty getUpdates waits up to 300 ms for an update here.
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2] || 9000);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
const app = server.webServer;

function waiting(token) {
  return server.storage.userMessages.some((u) => u.botToken === token && !u.isRead);
}

app.use((req, res, next) => {
  // The emulator's getMe lacks is_bot, which a User must have: aiogram refuses the answer.
  if (/^\/bot[^/]+\/getMe$/.test(req.path)) {
    res.json({ ok: true, result: { id: 666, is_bot: true, first_name: 'kinlink test', username: 'KinlinkTestBot' } });
    return;
  }
  const m = req.path.match(/^\/bot([^/]+)\/getUpdates$/);
  if (!m || waiting(m[1])) { next(); return; }
  const until = Date.now() + 300;
  const poll = setInterval(() => {
    if (waiting(m[1]) || Date.now() >= until) { clearInterval(poll); next(); }
  }, 20);
});
// Before the emulator's own routes (express keeps them in the order added), after its body parsers.
const stack = app._router.stack;
const first = stack.findIndex((layer) => layer.route);
stack.splice(first, 0, stack.pop());

server.start().then(() => { process.stdout.write('ready\n'); });
process.on('SIGTERM', () => { server.stop().then(() => process.exit(0)); });
process.on('SIGINT', () => { server.stop().then(() => process.exit(0)); });
