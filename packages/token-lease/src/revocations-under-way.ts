/**
 * The revocations running in this hub, by lease id: whoever asks to revoke a
 * lease whose revocation runs here already (a request while the scheduler
 * retries it, or the other way round) waits for that one instead of sending the
 * cloud a second delete. At most as many as run at once (the scheduler's
 * concurrency and the requests in flight), each removed when it ends.
 */
export class RevocationsUnderWay {
  private readonly running = new Map<string, Promise<boolean>>();

  /** The revocation of `id` running here, if one is: it resolves true when the token is gone. */
  get(id: string): Promise<boolean> | undefined {
    return this.running.get(id);
  }

  /** Runs `revoke` for `id`, or joins the one running already. */
  run(id: string, revoke: () => Promise<boolean>): Promise<boolean> {
    const running = this.running.get(id);
    if (running !== undefined) return running;
    const started = revoke().finally(() => this.running.delete(id));
    this.running.set(id, started);
    return started;
  }
}
