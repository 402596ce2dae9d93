/** The last lines each daemon wrote, for error messages that show what HTCondor said. */
export class RecentLines {
  private readonly lines: string[] = [];
  constructor(private readonly max = 20) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  get all(): string[] {
    return [...this.lines];
  }
}
