// Canal's client authentication: a MySQL 4.1-style scramble over an 8-byte seed.
import { createHash, timingSafeEqual } from 'node:crypto';

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** hex SHA1(SHA1(password)), upper case as MySQL PASSWORD() prints it (without '*'). */
export function storedPasswordHash(password: string): string {
  return sha1(sha1(Buffer.from(password, 'utf8'))).toString('hex').toUpperCase();
}

/** What a client sends: lowercase hex of SHA1(pw) XOR SHA1(seed || SHA1(SHA1(pw))). */
export function scramblePassword(password: string, seed: Uint8Array): string {
  const s1 = sha1(Buffer.from(password, 'utf8'));
  const s2 = sha1(s1);
  const s3 = sha1(seed, s2);
  const out = Buffer.alloc(20);
  for (let i = 0; i < 20; i++) out[i] = s3[i]! ^ s1[i]!;
  return out.toString('hex');
}

export type AuthCheck = { ok: true } | { ok: false; reason: 'user' | 'empty-password' | 'mismatch' } | { ok: false; reason: 'malformed' };

/**
 * The server-side check of Canal's CanalServerWithEmbedded.auth. `storedHash` is hex
 * SHA1(SHA1(pw)) or empty (auth off). `received` is the hex text the client sent.
 * 'malformed' (not hex, or shorter than 20 bytes) is the case where Canal closes the connection.
 */
export function checkPassword(expectedUser: string, storedHash: string, username: string, received: string, seed: Uint8Array): AuthCheck {
  if (expectedUser !== '' && expectedUser !== username) return { ok: false, reason: 'user' };
  if (storedHash === '') return { ok: true };
  if (received === '') return { ok: false, reason: 'empty-password' };
  const text = received.length % 2 === 1 ? '0' + received : received;
  if (!/^[0-9a-fA-F]*$/.test(text)) return { ok: false, reason: 'malformed' };
  const token = Buffer.from(text, 'hex');
  if (token.length < 20) return { ok: false, reason: 'malformed' };
  const stored = Buffer.from(storedHash, 'hex');
  const mix = sha1(seed, stored);
  const stage1 = Buffer.alloc(20);
  for (let i = 0; i < 20; i++) stage1[i] = mix[i]! ^ token[i]!;
  const candidate = sha1(stage1);
  return candidate.length === stored.length && timingSafeEqual(candidate, stored) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
