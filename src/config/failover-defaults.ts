// When a source counts as lost and how the standby takes over (docs/high-availability.md,
// "Source failover", gives the reasoning at length).
//
// - afterFailedReconnects 5: with the default backoff (1 s doubling to 30 s) five failed
//   reconnects span about 31 s, longer than a planned restart of a source (a few seconds) and
//   than most network blips; one dropped connection is never a loss on its own.
// - afterSilenceMs 30 s: six default heartbeat periods with nothing received; whichever of the two
//   comes first decides, so a source that hangs (accepts connections, sends nothing) is caught
//   as surely as one that refuses them.
// - fallbackMs 60 s: without GTIDs the standby is searched by time, this far before the last
//   event handed on (Canal's fallbackIntervalInSeconds default), to cover clock skew and replica lag.
// - standbyWaitMs 60 s: how long a standby that lacks the position is waited for (it may still be
//   applying its relay log) before the instance fails instead of skipping anything.
export const FAILOVER_DEFAULTS = {
  afterFailedReconnects: 5,
  afterSilenceMs: 30_000,
  fallbackMs: 60_000,
  standbyWaitMs: 60_000,
} as const;

export interface FailoverSettings {
  afterFailedReconnects: number;
  afterSilenceMs: number;
  fallbackMs: number;
  standbyWaitMs: number;
}
