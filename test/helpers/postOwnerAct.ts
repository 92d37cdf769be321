/** POST /v1/owner/acts on the host at `url` (the honest relay): the HTTP status and the JSON answer. */
export async function postOwnerAct(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}
