/** Lets the process exit while `handle` is pending, if it is a Node timer (a fake clock's handle has no unref). */
export function unrefTimer(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}
