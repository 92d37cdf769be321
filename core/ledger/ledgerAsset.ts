/** The ledger's name for an owner act's asset: the zero address (how EIP-712 acts name the native coin) is `native`. */
export const ledgerAsset = (asset: string): string => (asset === 'native' || /^0x0{40}$/i.test(asset) ? 'native' : asset.toLowerCase())
