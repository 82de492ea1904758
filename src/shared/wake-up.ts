/**
 * A polling loop's wait that news can cut short: `wait(ms)` resolves after `ms`, or as soon as
 * `wake()` is called. A wake while nobody waits is kept for the next wait, so news that arrives
 * while the loop is busy is never slept through.
 */
export class WakeUp {
  private pending = false;
  private resolveWait: (() => void) | undefined;

  wake(): void {
    if (this.resolveWait === undefined) this.pending = true;
    else this.resolveWait();
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.resolveWait = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.resolveWait = done;
    });
  }
}
