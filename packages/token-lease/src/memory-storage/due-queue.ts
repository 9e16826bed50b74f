/** Something with a due time and an id, as the queue orders it. */
export interface DueEntry {
  readonly id: string;
  due: number;
  /** Position in the heap; -1 when not queued. Owned by DueQueue. */
  slot: number;
}

/**
 * An indexed binary min-heap ordered by (due, id): O(log n) insert, removal and
 * re-keying of any entry, O(1) peek. Entries are only ever taken from the top, so
 * they leave in due order (the heap array itself is never read as if sorted).
 */
export class DueQueue<E extends DueEntry> {
  private readonly heap: E[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The entry due first, without removing it. */
  peek(): E | undefined {
    return this.heap[0];
  }

  push(entry: E): void {
    entry.slot = this.heap.length;
    this.heap.push(entry);
    this.up(entry.slot);
  }

  /** Removes and returns the entry due first. */
  pop(): E | undefined {
    const top = this.heap[0];
    if (top !== undefined) this.delete(top);
    return top;
  }

  delete(entry: E): void {
    const slot = entry.slot;
    if (slot < 0 || this.heap[slot] !== entry) return;
    const last = this.heap.pop()!;
    entry.slot = -1;
    if (last === entry) return;
    this.heap[slot] = last;
    last.slot = slot;
    this.fix(slot);
  }

  /** Moves an entry (queued or not) to a new due time. */
  reschedule(entry: E, due: number): void {
    entry.due = due;
    if (entry.slot < 0 || this.heap[entry.slot] !== entry) this.push(entry);
    else this.fix(entry.slot);
  }

  private fix(slot: number): void {
    if (slot > 0 && this.before(this.heap[slot]!, this.heap[(slot - 1) >> 1]!)) this.up(slot);
    else this.down(slot);
  }

  private before(a: E, b: E): boolean {
    return a.due < b.due || (a.due === b.due && a.id < b.id);
  }

  private up(slot: number): void {
    const heap = this.heap;
    const entry = heap[slot]!;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot]!;
      if (!this.before(entry, parent)) break;
      heap[slot] = parent;
      parent.slot = slot;
      slot = parentSlot;
    }
    heap[slot] = entry;
    entry.slot = slot;
  }

  private down(slot: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[slot]!;
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(heap[right]!, heap[left]!) ? right : left;
      const smaller = heap[child]!;
      if (!this.before(smaller, entry)) break;
      heap[slot] = smaller;
      smaller.slot = slot;
      slot = child;
    }
    heap[slot] = entry;
    entry.slot = slot;
  }
}
