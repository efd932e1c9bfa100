// One contiguous, reused block of memory for the serialized entries the store holds. Entries
// enter in order and are released in order (acks free the oldest first), so a ring of bytes fits
// them without any allocator. Why it exists: an entry's own Buffer lives long enough in the store
// to reach V8's old generation, and a dead old-generation Buffer is freed only by a full GC,
// which V8 puts off until tens of MiB of such garbage have piled up. Copying each entry here
// keeps the store's memory at one block of `capacity` bytes, and the encoder's Buffer dies young.

/** Largest window lent at once (openWindow) for a `min` up to a quarter of it. */
const WINDOW_BYTES = 1024 * 1024;

export class ByteRing {
  private block: Buffer | undefined;
  /** next write offset */
  private head = 0;
  /** start of the oldest live bytes */
  private tail = 0;
  /** the live bytes run from tail to wrapEnd, then from 0 to head */
  private wrapped = false;
  private wrapEnd = 0;
  /** free bytes lent for writing entries in place (openWindow), or undefined */
  private win: Buffer | undefined;
  private winView: DataView | undefined;
  /** block offset of win[0] */
  private winBase = 0;
  /** block offset where the next entry written into the window starts */
  private winNext = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`ByteRing capacity must be a positive integer, got ${capacity}`);
  }

  /** Bytes of the block that have been written at least once (what the ring can add to RSS). */
  get allocated(): number {
    return this.block === undefined ? 0 : this.block.length;
  }

  /**
   * Copies `bytes` in after the newest live bytes and returns their offset; −1 when there is no
   * contiguous room (the caller then keeps the entry's own buffer).
   */
  place(bytes: Uint8Array): number {
    const at = this.reserve(bytes.byteLength);
    if (at >= 0) this.block!.set(bytes, at);
    return at;
  }

  /** As place(), for `n` bytes of `src` from `from` on (an encoder's buffer), copied without a view of them. */
  placeFrom(src: Buffer, n: number, from = 0): number {
    const at = this.reserve(n);
    if (at < 0) return -1;
    const block = this.block!;
    // Below a few dozen bytes a loop beats the native copy's call overhead.
    if (n < 48) for (let i = 0; i < n; i++) block[at + i] = src[from + i]!;
    else src.copy(block, at, from, from + n);
    return at;
  }

  /**
   * Free bytes for the next entries to be written in place, so they need no copy: a view of the
   * block where at least `min` contiguous bytes are free from windowStart on, or undefined when
   * there are not (the caller then writes elsewhere and uses place/placeFrom). Bytes written there
   * become live only through claim(). The same window serves entry after entry until its room
   * falls below `min`, then the next is cut (at most WINDOW_BYTES or 4 × min, so an entry that
   * outgrows the window and is moved by its writer drags little with it). place/placeFrom and
   * reset drop it.
   */
  openWindow(min: number): Buffer | undefined {
    const win = this.win;
    if (win !== undefined && this.winBase + win.length - this.winNext >= min) return win;
    return this.cutWindow(min);
  }

  /** Offset in the open window where the next entry starts. */
  get windowStart(): number {
    return this.winNext - this.winBase;
  }

  /** DataView of the open window's bytes. */
  get windowView(): DataView {
    return this.winView!;
  }

  /** The `n` bytes written at windowStart become the newest live bytes; returns their block offset. */
  claim(n: number): number {
    const at = this.winNext;
    // A window cut at the block's start while the live bytes run on to near its end: that is the wrap.
    if (!this.wrapped && at < this.head) {
      this.wrapped = true;
      this.wrapEnd = this.head;
    }
    this.head = at + n;
    this.winNext = at + n;
    return at;
  }

  /** The free run reserve() would place `min` bytes at, and what lies free after it. */
  private cutWindow(min: number): Buffer | undefined {
    this.win = undefined;
    if (min > this.capacity) return undefined;
    let from: number;
    let to: number;
    if (!this.wrapped) {
      if (this.head + min <= this.capacity) {
        from = this.head;
        to = this.capacity;
      } else if (min <= this.tail) {
        from = 0;
        to = this.tail;
      } else return undefined;
    } else if (this.head + min <= this.tail) {
      from = this.head;
      to = this.tail;
    } else return undefined;
    // Several entries of `min` bytes to a window, so large entries do not cut one per entry.
    const span = Math.max(WINDOW_BYTES, 4 * min);
    if (to - from > span) to = from + span;
    const block = (this.block ??= Buffer.allocUnsafeSlow(this.capacity));
    this.win = block.subarray(from, to);
    this.winView = new DataView(block.buffer, block.byteOffset + from, to - from);
    this.winBase = from;
    this.winNext = from;
    return this.win;
  }

  /** Claims `n` contiguous bytes after the newest live bytes: their offset, or −1 when there is no room. */
  private reserve(n: number): number {
    // head moves without the window's cursor: the window no longer starts at the newest bytes
    this.win = undefined;
    if (n === 0 || n > this.capacity) return -1;
    let at: number;
    if (!this.wrapped) {
      // Wrapping only at the block's end keeps the whole block usable: wrapping earlier (for cache
      // locality) leaves the rest of the block unusable until the older part drains, and a consumer
      // that then falls behind pushed every new entry out of the ring (measured: 26k of 300k).
      if (this.head + n <= this.capacity) at = this.head;
      else if (n <= this.tail) {
        this.wrapped = true;
        this.wrapEnd = this.head;
        at = 0;
      } else return -1;
    } else if (this.head + n <= this.tail) at = this.head;
    else return -1;
    // Allocated on first use and never zero-filled: pages become resident only once written.
    this.block ??= Buffer.allocUnsafeSlow(this.capacity);
    this.head = at + n;
    return at;
  }

  /** The bytes placed at `offset`; valid until they are released. */
  view(offset: number, length: number): Uint8Array {
    return this.block!.subarray(offset, offset + length);
  }

  /**
   * As view(), a plain Uint8Array rather than a Buffer: for consumers that only copy the bytes
   * (getBytes), since a Buffer view (subarray, a derived class) costs about twice as much to make.
   */
  plainView(offset: number, length: number): Uint8Array {
    const block = this.block!;
    return new Uint8Array(block.buffer, block.byteOffset + offset, length);
  }

  /** Frees every placement up to and including the one at `offset` with `length` bytes (the newest released). */
  release(offset: number, length: number): void {
    if (this.wrapped && offset < this.tail) {
      // The released placement lies in the part written after wrapping: the first part is gone.
      this.wrapped = false;
    }
    this.tail = offset + length;
    if (this.wrapped && this.tail >= this.wrapEnd) {
      this.wrapped = false;
      this.tail = 0;
    }
    if (!this.wrapped && this.tail === this.head) this.reset();
  }

  /** Nothing is live: writing starts over at the beginning, so a quiet store touches few pages. */
  reset(): void {
    this.win = undefined;
    this.head = 0;
    this.tail = 0;
    this.wrapped = false;
    this.wrapEnd = 0;
  }
}
