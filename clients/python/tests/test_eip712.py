"""The signature check's EIP-712 hash and native secp256k1 recovery agree with eth-account (independent code)."""

import os

from eth_account import Account

from bursar.eip712 import hash_typed_data
from bursar.signer import recover_address

DOMAIN = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
TYPES = {
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"},
        {"name": "validBefore", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


def test_hash_and_recover_match_eth_account():
    acct = Account.create()
    msg = {"from": acct.address, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 10000, "validAfter": 0, "validBefore": 1893456000, "nonce": os.urandom(32)}
    signed = acct.sign_typed_data(DOMAIN, TYPES, msg)
    digest = hash_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", msg)
    assert digest == bytes(signed.message_hash)
    assert recover_address(digest, bytes(signed.signature)).lower() == acct.address.lower()
    # As decimal strings and hex (the wire form) the hash is the same.
    wire = {**msg, "value": "10000", "validAfter": "0", "validBefore": "1893456000", "nonce": "0x" + msg["nonce"].hex()}
    assert hash_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", wire) == digest
    # Another message recovers to another address: the check can fail.
    other = hash_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", {**msg, "value": 10001})
    assert recover_address(other, bytes(signed.signature)).lower() != acct.address.lower()
