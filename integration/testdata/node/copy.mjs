// docs/api.md's TypeScript example as a script (plain JavaScript, so it needs no compiler): it
// starts CopyImage with the documented JSON, reads PollJob's heartbeat, the progress query and the
// result by their documented keys, then starts the same copy with cmk_id misspelt. It prints one
// JSON object of what it saw, for integration/api_node_test.go to check.
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

const env = process.env;
const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
const client = new Client({ connection, namespace: 'default' });
const copy = { region: env.REGION, source_image_id: env.SOURCE_IMAGE_ID, name: env.NAME, cmk_id: env.CMK_ID };
const handle = await client.workflow.start('CopyImage', {
  taskQueue: env.TASK_QUEUE, args: [copy],
  workflowId: `copy/${copy.region}/${copy.source_image_id}/${copy.name}`,
  workflowIdConflictPolicy: 'USE_EXISTING',
});

const seen = {};
const deadline = Date.now() + 120_000;
while (!seen.heartbeat && Date.now() < deadline) {
  const desc = await handle.describe();
  for (const act of desc.raw.pendingActivities ?? []) {
    const data = act.heartbeatDetails?.payloads?.[0]?.data;
    if (act.activityType?.name === 'PollJob' && data) {
      const beat = JSON.parse(Buffer.from(data).toString());
      if (beat.polls > 0) {
        seen.heartbeat = beat;
        seen.progress = await handle.query('progress');
      }
    }
  }
  if (desc.status.name !== 'RUNNING') break;
  await new Promise((r) => setTimeout(r, 200));
}
seen.result = await handle.result();

const misspelt = { region: env.REGION, source_image_id: env.SOURCE_IMAGE_ID, name: `${env.NAME}-misspelt`, cmkid: env.CMK_ID };
const bad = await client.workflow.start('CopyImage', {
  taskQueue: env.TASK_QUEUE, args: [misspelt],
  workflowId: `copy/${misspelt.region}/${misspelt.source_image_id}/${misspelt.name}`,
});
try {
  seen.misspelt = { result: await bad.result() };
} catch (err) {
  if (!(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure)) throw err;
  seen.misspelt = { type: err.cause.type, message: err.cause.message, nonRetryable: err.cause.nonRetryable };
}
console.log(JSON.stringify(seen));
await connection.close();
