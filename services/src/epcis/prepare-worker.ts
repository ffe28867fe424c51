// Runs in a piscina worker thread: one slice of a capture document's events per task (prepare.ts).
import { type PrepareMeta, prepareEvents } from './prepare.js';

export default function prepare(task: { events: unknown[]; firstIndex: number; meta: PrepareMeta }) {
  return prepareEvents(task.events, task.firstIndex, task.meta);
}
