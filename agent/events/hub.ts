import { toEvent, type AgentEvent } from './model.ts';

/** `json` is the event already serialized, once for all subscribers (50 websocket clients: one JSON.stringify). */
export type Subscriber = (event: AgentEvent, json: string) => void;

/**
 * Numbers every event, keeps the last `backlog` of them in a ring buffer for replay (?since=), and hands each to the
 * subscribers synchronously. The ring holds each event as its JSON text, about half the memory of the object (a full
 * backlog of 10,000 is a few MB); replay, which is rare, parses it back. A subscriber must not block: the websocket
 * one only queues bytes and checks its client's backlog, so a slow reader never slows the agent. The ring is bounded
 * in size too (`maxChars` of JSON, about bytes): events carry text jobs control (arguments, paths), so a count alone
 * would not bound its memory; the oldest go first.
 */
export class EventHub {
  private readonly ring: (string | undefined)[];
  private next = 1;
  /** The oldest seq the size bound has kept. */
  private oldest = 1;
  private chars = 0;
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    readonly backlog: number,
    readonly maxChars = 16 << 20,
  ) {
    this.ring = new Array<string | undefined>(Math.max(1, backlog));
  }

  publish(record: Record<string, unknown>): AgentEvent {
    const event = toEvent(record, this.next++);
    const json = JSON.stringify(event);
    const slot = event.seq % this.ring.length;
    this.chars += json.length - (this.ring[slot]?.length ?? 0);
    this.ring[slot] = json;
    this.oldest = Math.max(this.oldest, event.seq - this.ring.length + 1);
    while (this.chars > this.maxChars && this.oldest < event.seq) {
      const index = this.oldest % this.ring.length;
      this.chars -= this.ring[index]?.length ?? 0;
      this.ring[index] = undefined;
      this.oldest += 1;
    }
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
    return Math.max(1, this.oldest, this.next - this.ring.length);
  }

  /** Characters of JSON the backlog holds now. */
  get backlogChars(): number {
    return this.chars;
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
