import { describe, expect, it } from 'vitest'
import { extractPaymentRequired } from './extractPaymentRequired.js'

const required = { x402Version: 2, resource: { url: 'mcp://tool/t' }, accepts: [{ scheme: 'exact', amount: '1' }] }

describe('extractPaymentRequired', () => {
  it('reads the x402 MCP transport forms: text content, structuredContent, _meta', () => {
    const text = JSON.stringify({ 'x402/error': { code: 402, message: 'Payment required', data: required } })
    expect(extractPaymentRequired({ isError: true, content: [{ type: 'text', text }] })).toEqual(required)
    expect(extractPaymentRequired({ isError: true, content: [], structuredContent: { 'x402/error': { code: 402, data: required } } })).toEqual(required)
    expect(extractPaymentRequired({ isError: true, content: [], _meta: { 'x402/error': required } })).toEqual(required)
  })

  it('is null for successes, other errors, other codes and malformed text', () => {
    const text = JSON.stringify({ 'x402/error': { code: 402, data: required } })
    expect(extractPaymentRequired({ isError: false, content: [{ type: 'text', text }] })).toBeNull()
    expect(extractPaymentRequired({ isError: true, content: [{ type: 'text', text: 'boom' }] })).toBeNull()
    expect(extractPaymentRequired({ isError: true, content: [{ type: 'text', text: JSON.stringify({ 'x402/error': { code: 500, data: required } }) }] })).toBeNull()
    expect(extractPaymentRequired({ isError: true, content: [{ type: 'text', text: '{"x402/error": nope' }] })).toBeNull()
    expect(extractPaymentRequired({ isError: true, content: [{ type: 'text', text: JSON.stringify({ 'x402/error': { code: 402, data: { accepts: 'x' } } }) }] })).toBeNull()
  })
})
