// What a standby answers a client that asks it for a destination another server runs. Clients
// (sluice's and Canal's cluster connector) treat any error as a reason to look `running` up again
// and reconnect; sluice's client recognises this phrase to do so at once.

export const NOT_ACTIVE_PHRASE = 'is not active on this server';

/** e.g. "destination example is not active on this server (standby); the active server is 10.0.0.5:11111" */
export function notActiveMessage(destination: string, role: string, active: string | undefined): string {
  const where = active !== undefined ? `the active server is ${active}` : 'no server is active for it right now (an election is under way)';
  return `destination ${destination} ${NOT_ACTIVE_PHRASE} (${role}); ${where}`;
}

/** Whether a server's error message is a standby's refusal. */
export function isNotActiveRefusal(message: string): boolean {
  return message.includes(NOT_ACTIVE_PHRASE);
}

/** The active address named in a refusal, if any. */
export function activeAddressIn(message: string): string | undefined {
  return /the active server is (\S+:\d+)/.exec(message)?.[1];
}
