/**
 * Cuts a byte stream that someone else writes (a FIFO every job can write to) into lines of at most `maxBytes`.
 * readline would buffer a line without end; here a longer line is dropped as it streams by: nothing of it is kept
 * beyond the bytes already seen, and it is reported once it ends (or is cut off), with its length, never its text.
 */
export class BoundedLines {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the current line that is being dropped; undefined while the line fits. */
  private overlong: number | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverlong: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl < 0) return;
      this.endLine();
      start = nl + 1;
    }
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.overlong !== undefined) {
      this.overlong += piece.length;
      return;
    }
    if (this.size + piece.length > this.maxBytes) {
      this.overlong = this.size + piece.length;
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(Buffer.from(piece)); // a copy: the chunk's memory is not kept alive by a slice
    this.size += piece.length;
  }

  private endLine(): void {
    if (this.overlong !== undefined) {
      const bytes = this.overlong;
      this.overlong = undefined;
      this.onOverlong(bytes);
      return;
    }
    const line = Buffer.concat(this.parts, this.size).toString('utf8');
    this.parts = [];
    this.size = 0;
    this.onLine(line);
  }
}
