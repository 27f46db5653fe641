/** A clock that moves only when told to, for `new Throttle({ clock })` in tests (fake timers cannot reach sluice's clock in Rust). */
export declare class ManualClock {
  // Nominal (a private member): an object literal with now() and advance() is not a ManualClock,
  // as the runtime refuses it.
  private readonly clockBrand: never
  /** Milliseconds since the clock was made. */
  now(): number
  /** Moves the clock forward by `ms`, running every release that comes due, in order, before returning; returns `now()`. */
  advance(ms: number): number
}

export declare function createClock(): ManualClock
