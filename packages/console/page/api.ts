// The console's API as the page calls it: same origin, the login's cookie
// sent by the browser, JSON bodies (the browser adds the Origin the server checks).

/** An action the console refused or the hub did not do: the console's words. */
export class ActionError extends Error {}

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  const answer = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ActionError(answer.error ?? `the console answered ${res.status}`);
  return answer as T;
}

export function revokeLease(id: string): Promise<unknown> {
  return post('/api/revoke', { id });
}

export function removeMember(identifier: string): Promise<unknown> {
  return post('/api/members/remove', { identifier });
}

export interface MadeToken {
  token: string;
  reference: string;
  expires: string;
}

export function createToken(attributes: Record<string, string>, uses: number, ttlMinutes: number): Promise<MadeToken> {
  return post('/api/tokens', { attributes, uses, ttlMinutes });
}
