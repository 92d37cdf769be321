/**
 * `node:fs`, `node:os` and `node:path` for the console bundle: OwnerClient's marks module imports them for the
 * CLI's on-disk marks, which the console never uses (it keeps marks in memory and localStorage). Any call is a bug.
 */
const unavailable = (name: string) => () => {
  throw new TypeError(`${name} is not available in the browser console`)
}
export const readFileSync = unavailable('fs.readFileSync')
export const writeFileSync = unavailable('fs.writeFileSync')
export const mkdirSync = unavailable('fs.mkdirSync')
export const renameSync = unavailable('fs.renameSync')
export const existsSync = () => false
export const unlinkSync = unavailable('fs.unlinkSync')
export const homedir = () => '/'
export const join = (...parts: string[]) => parts.join('/').replace(/\/+/g, '/')
export const dirname = (p: string) => p.replace(/\/[^/]*$/, '') || '/'
export const resolve = join
export const sep = '/'
export default { readFileSync, writeFileSync, mkdirSync, renameSync, existsSync, unlinkSync, homedir, join, dirname, resolve, sep }
