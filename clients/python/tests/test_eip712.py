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


def test_cached_hashing_matches_eth_account_across_domains_types_and_repeats():
    # The domain separator, typeHash and per-field encoders are cached by value: repeated calls, another domain, a
    # same-named type with another shape, nested structs and arrays must each still hash as eth-account does.
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak as eth_keccak

    mail = {
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}, {"name": "ok", "type": "bool"}],
        "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person[]"}, {"name": "contents", "type": "string"}, {"name": "n", "type": "int64"}, {"name": "tag", "type": "bytes4"}, {"name": "blob", "type": "bytes"}, {"name": "urgent", "type": "bool"}],
    }
    alice = {"name": "Alice", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", "ok": True}
    bob = {"name": "Bob ü", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", "ok": False}
    mail_msg = {"from": alice, "to": [bob, alice], "contents": "Hello", "n": -5, "tag": b"\x01\x02\x03\x04", "blob": os.urandom(40), "urgent": True}
    other_domain = {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"}
    reshaped = {"TransferWithAuthorization": [*TYPES["TransferWithAuthorization"][:2], {"name": "value", "type": "uint128"}, *TYPES["TransferWithAuthorization"][3:]]}
    acct = Account.create()
    msg = {"from": acct.address, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 7, "validAfter": 0, "validBefore": 1893456000, "nonce": os.urandom(32)}
    cases = [(DOMAIN, TYPES, "TransferWithAuthorization", msg), (other_domain, TYPES, "TransferWithAuthorization", msg), (DOMAIN, reshaped, "TransferWithAuthorization", msg), (other_domain, mail, "Mail", mail_msg)]
    for _ in range(3):
        for domain, types, primary, message in cases:
            expected = encode_typed_data(domain_data=domain, message_types=types, message_data=message)
            want = eth_keccak(b"\x19" + expected.version + expected.header + expected.body)
            assert hash_typed_data(domain, types, primary, message) == want
