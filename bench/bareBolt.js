// A bare Bolt app over HTTP, plain JavaScript: the floor Cockpit's start-up time and memory are compared with.
// The same ack-then-respond as Cockpit's `/cockpit help`; no store, no router, no adapters.
const { App } = require('@slack/bolt');

const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  token: process.env.SLACK_BOT_TOKEN,
  botId: process.env.SLACK_BOT_ID,
  botUserId: process.env.SLACK_BOT_USER_ID,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command('/cockpit', async ({ ack, respond }) => {
  await ack();
  await respond({ response_type: 'ephemeral', text: 'Cockpit commands' });
});
app.start(Number(process.env.PORT)).then(
  () => process.stdout.write('listening\n'),
  (err) => {
    process.stderr.write(`${err}\n`);
    process.exit(1);
  },
);
