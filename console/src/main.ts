import './polyfills.js'
import { render, html } from 'lit'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { PolicySchema } from '../../shared/schemas/policy.js'

render(html`<p>console ${typeof verifyAuditLog} ${typeof PolicySchema}</p>`, document.getElementById('app')!)
