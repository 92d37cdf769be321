/**
 * SIMULATION ONLY. @peculiar/x509's DI container (tsyringe) insists on a
 * Reflect metadata polyfill at import time. reflect-metadata is not a
 * dependency, so a minimal Reflect.getMetadata/defineMetadata is installed
 * when none exists; x509 uses it only for DI bookkeeping.
 */
export function installReflectMetadataShim(): void {
  const R = Reflect as unknown as Record<string, unknown>
  if (typeof R.getMetadata === 'function') return
  const store = new WeakMap<object, Map<unknown, Map<unknown, unknown>>>()
  const own = (target: object, prop: unknown) => store.get(target)?.get(prop)
  R.defineMetadata = (key: unknown, value: unknown, target: object, prop?: unknown) => {
    let byProp = store.get(target)
    if (!byProp) store.set(target, (byProp = new Map()))
    let byKey = byProp.get(prop)
    if (!byKey) byProp.set(prop, (byKey = new Map()))
    byKey.set(key, value)
  }
  R.getOwnMetadata = (key: unknown, target: object, prop?: unknown) => own(target, prop)?.get(key)
  R.hasOwnMetadata = (key: unknown, target: object, prop?: unknown) => own(target, prop)?.has(key) ?? false
  R.getMetadata = (key: unknown, target: object, prop?: unknown) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const byKey = own(t, prop)
      if (byKey?.has(key)) return byKey.get(key)
    }
    return undefined
  }
}
