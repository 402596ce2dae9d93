import { toEvent, type AgentEvent } from './model.ts';

/** `json` is the event already serialized, once for all subscribers (50 websocket clients: one JSON.stringify). */
export type Subscriber = (event: AgentEvent, json: string) => void;

/**
 * Numbers every event, keeps the last `backlog` of them in a ring buffer for replay (?since=), and hands each to the
 * subscribers synchronously. The ring holds each event as its JSON text, about half the memory of the object (a full
 * backlog of 10,000 is a few MB); replay, which is rare, parses it back. A subscriber must not block: the websocket
 * one only queues bytes and checks its client's backlog, so a slow reader never slows the agent.
 */
export class EventHub {
  private readonly ring: (string | undefined)[];
  private next = 1;
  private readonly subscribers = new Set<Subscriber>();

  constructor(readonly backlog: number) {
    this.ring = new Array<string | undefined>(Math.max(1, backlog));
  }

  publish(record: Record<string, unknown>): AgentEvent {
    const event = toEvent(record, this.next++);
    const json = JSON.stringify(event);
    this.ring[event.seq % this.ring.length] = json;
    for (const subscriber of this.subscribers) subscriber(event, json);
    return event;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The newest sequence number handed out (0 before any). */
  get lastSeq(): number {
    return this.next - 1;
  }

  /** The oldest sequence number still in the backlog. */
  get oldestSeq(): number {
    return Math.max(1, this.next - this.ring.length);
  }

  /** Events with seq > since that are still buffered, oldest first, and whether some wanted ones were already gone. */
  since(since: number): { events: AgentEvent[]; missed: number } {
    const from = Math.max(since + 1, this.oldestSeq);
    const events: AgentEvent[] = [];
    for (let seq = from; seq <= this.lastSeq; seq++) {
      const json = this.ring[seq % this.ring.length];
      const event = json === undefined ? undefined : (JSON.parse(json) as AgentEvent);
      if (event?.seq === seq) events.push(event);
    }
    return { events, missed: Math.max(0, from - (since + 1)) };
  }
}
