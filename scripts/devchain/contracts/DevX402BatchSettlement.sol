// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import "./IDevPermit2.sol";

/*
 * bursar's own TEST stand-ins for the x402 batch-settlement escrow and its
 * EIP-3009 deposit collector, plus Multicall3's tryAggregate (the reference
 * facilitator reads channel state through it). No package ships the real
 * contracts; these implement the interface the reference facilitator in
 * @x402/evm 2.27 calls (its batchSettlementABI: deposit, claimWithSignature,
 * claim, settle, channels, pendingWithdrawals, receivers, refundNonce and the
 * digest views) and are placed at the canonical addresses on a local anvil only
 * (anvil_setCode: no constructor runs, so nothing depends on one). Never deploy
 * these anywhere else. Withdrawals and refunds are not implemented (they revert).
 *
 * What they enforce is what a payer relies on: a deposit credits exactly the
 * channel its EIP-3009 nonce names (nonce = keccak256(channelId, salt)); a
 * claim moves at most the running total a voucher signed by the channel's
 * payerAuthorizer (or the payer when zero) allows, never beyond the channel's
 * balance, and only with the receiverAuthorizer's signature over the batch;
 * settle pays the receiver exactly what was claimed for it.
 */

interface IDevErc3009 {
    function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes memory signature) external;
    function transfer(address to, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

interface IDevDepositCollector {
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata data) external;
}

library DevSig {
    function recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        require(sig.length == 65, "bad signature length");
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
        if (v < 27) v += 27;
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "bad s");
        address a = ecrecover(digest, v, r, s);
        require(a != address(0), "bad signature");
        return a;
    }
}

contract DevX402BatchSettlement {
    struct ChannelConfig {
        address payer;
        address payerAuthorizer;
        address receiver;
        address receiverAuthorizer;
        address token;
        uint40 withdrawDelay;
        bytes32 salt;
    }
    struct Voucher {
        ChannelConfig channel;
        uint128 maxClaimableAmount;
    }
    struct VoucherClaim {
        Voucher voucher;
        bytes signature;
        uint128 totalClaimed;
    }
    struct ChannelState {
        uint128 balance;
        uint128 totalClaimed;
    }
    struct Withdrawal {
        uint128 amount;
        uint40 initiatedAt;
    }
    struct ReceiverState {
        uint128 totalClaimed;
        uint128 totalSettled;
    }

    address constant ERC3009_COLLECTOR = 0x4020806089470a89826cB9fB1f4059150b550004;
    address constant PERMIT2_COLLECTOR = 0x4020425FAf3B746C082C2f942b4E5159887B0005;
    bytes32 public constant CHANNEL_CONFIG_TYPEHASH = keccak256(
        "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt)"
    );
    bytes32 constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 maxClaimableAmount)");
    bytes32 constant REFUND_TYPEHASH = keccak256("Refund(bytes32 channelId,uint256 nonce,uint128 amount)");
    bytes32 constant CLAIM_ENTRY_TYPEHASH = keccak256("ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)");
    bytes32 constant CLAIM_BATCH_TYPEHASH = keccak256(
        "ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"
    );

    mapping(bytes32 => ChannelState) public channels;
    mapping(bytes32 => Withdrawal) public pendingWithdrawals;
    mapping(address => mapping(address => ReceiverState)) public receivers;
    mapping(bytes32 => uint256) public refundNonce;

    event Deposited(bytes32 indexed channelId, address indexed sender, uint128 amount);
    event Claimed(bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed);
    event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount);

    function domainSeparator() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("x402 Batch Settlement"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    function typed(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function getChannelId(ChannelConfig memory c) public view returns (bytes32) {
        return typed(
            keccak256(abi.encode(CHANNEL_CONFIG_TYPEHASH, c.payer, c.payerAuthorizer, c.receiver, c.receiverAuthorizer, c.token, c.withdrawDelay, c.salt))
        );
    }

    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) public view returns (bytes32) {
        return typed(keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, maxClaimableAmount)));
    }

    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) public view returns (bytes32) {
        return typed(keccak256(abi.encode(REFUND_TYPEHASH, channelId, nonce, amount)));
    }

    function getClaimBatchDigest(VoucherClaim[] calldata claims) public view returns (bytes32) {
        bytes32[] memory entries = new bytes32[](claims.length);
        for (uint256 i = 0; i < claims.length; i++) {
            bytes32 id = getChannelId(claims[i].voucher.channel);
            entries[i] = keccak256(abi.encode(CLAIM_ENTRY_TYPEHASH, id, claims[i].voucher.maxClaimableAmount, claims[i].totalClaimed));
        }
        return typed(keccak256(abi.encode(CLAIM_BATCH_TYPEHASH, keccak256(abi.encodePacked(entries)))));
    }

    /** Pulls `amount` through the collector (which must credit this contract exactly) into the config's channel. */
    function deposit(ChannelConfig calldata config, uint128 amount, address collector, bytes calldata collectorData) external {
        require(collector == ERC3009_COLLECTOR || collector == PERMIT2_COLLECTOR, "unknown collector");
        require(amount > 0, "zero deposit");
        require(config.withdrawDelay >= 900 && config.withdrawDelay <= 2592000, "withdrawDelay out of range");
        bytes32 id = getChannelId(config);
        IDevErc3009 token = IDevErc3009(config.token);
        uint256 before = token.balanceOf(address(this));
        IDevDepositCollector(collector).collect(config.payer, config.token, amount, id, collectorData);
        require(token.balanceOf(address(this)) == before + amount, "collector did not deliver");
        channels[id].balance += amount;
        emit Deposited(id, msg.sender, amount);
    }

    function claimWithSignature(VoucherClaim[] calldata claims, bytes calldata authorizerSignature) external {
        address authorizer = DevSig.recover(getClaimBatchDigest(claims), authorizerSignature);
        for (uint256 i = 0; i < claims.length; i++) {
            require(claims[i].voucher.channel.receiverAuthorizer == authorizer, "not the receiver authorizer");
            applyClaim(claims[i]);
        }
    }

    function claim(VoucherClaim[] calldata claims) external {
        for (uint256 i = 0; i < claims.length; i++) {
            require(claims[i].voucher.channel.receiverAuthorizer == msg.sender, "not the receiver authorizer");
            applyClaim(claims[i]);
        }
    }

    function applyClaim(VoucherClaim calldata c) internal {
        ChannelConfig calldata ch = c.voucher.channel;
        bytes32 id = getChannelId(ch);
        address voucherSigner = ch.payerAuthorizer == address(0) ? ch.payer : ch.payerAuthorizer;
        require(DevSig.recover(getVoucherDigest(id, c.voucher.maxClaimableAmount), c.signature) == voucherSigner, "bad voucher signature");
        ChannelState storage s = channels[id];
        require(c.totalClaimed <= c.voucher.maxClaimableAmount, "claim above voucher");
        require(c.totalClaimed <= s.balance, "claim above balance");
        require(c.totalClaimed > s.totalClaimed, "nothing new to claim");
        uint128 delta = c.totalClaimed - s.totalClaimed;
        s.totalClaimed = c.totalClaimed;
        receivers[ch.receiver][ch.token].totalClaimed += delta;
        emit Claimed(id, msg.sender, delta, c.totalClaimed);
    }

    function settle(address receiver, address token) external {
        ReceiverState storage r = receivers[receiver][token];
        uint128 amount = r.totalClaimed - r.totalSettled;
        require(amount > 0, "nothing to settle");
        r.totalSettled = r.totalClaimed;
        require(IDevErc3009(token).transfer(receiver, amount), "transfer failed");
        emit Settled(receiver, token, msg.sender, amount);
    }

    function initiateWithdraw(ChannelConfig calldata, uint128) external pure {
        revert("not implemented in the test escrow");
    }

    function finalizeWithdraw(ChannelConfig calldata) external pure {
        revert("not implemented in the test escrow");
    }

    function refund(ChannelConfig calldata, uint128) external pure {
        revert("not implemented in the test escrow");
    }

    function refundWithSignature(ChannelConfig calldata, uint128, uint256, bytes calldata) external pure {
        revert("not implemented in the test escrow");
    }

    function multicall(bytes[] calldata data) external returns (bytes[] memory results) {
        results = new bytes[](data.length);
        for (uint256 i = 0; i < data.length; i++) {
            (bool ok, bytes memory out) = address(this).delegatecall(data[i]);
            require(ok, "multicall call failed");
            results[i] = out;
        }
    }
}

/** Receives the payer's EIP-3009 authorization (to = this collector, nonce bound to the channel) and hands the funds to the escrow. */
contract DevX402Erc3009DepositCollector {
    address constant ESCROW = 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003;

    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata data) external {
        require(msg.sender == ESCROW, "only the escrow");
        (uint256 validAfter, uint256 validBefore, uint256 salt, bytes memory signature) = abi.decode(data, (uint256, uint256, uint256, bytes));
        bytes32 nonce = keccak256(abi.encode(channelId, salt));
        IDevErc3009(token).receiveWithAuthorization(payer, address(this), amount, validAfter, validBefore, nonce, signature);
        require(IDevErc3009(token).transfer(ESCROW, amount), "transfer failed");
    }
}

/** Pulls the payer's Permit2 witness transfer (witness = the channel id) straight into the escrow. */
contract DevX402Permit2DepositCollector {
    address constant ESCROW = 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003;
    address constant PERMIT2 = 0x000000000022D473030F116dDEE9F6B43aC78BA3;
    bytes32 constant DEPOSIT_WITNESS_TYPEHASH = keccak256("DepositWitness(bytes32 channelId)");
    string constant WITNESS_TYPE_STRING = "DepositWitness witness)DepositWitness(bytes32 channelId)TokenPermissions(address token,uint256 amount)";

    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata data) external {
        require(msg.sender == ESCROW, "only the escrow");
        (uint256 nonce, uint256 deadline, bytes memory signature, ) = abi.decode(data, (uint256, uint256, bytes, bytes));
        IDevPermit2(PERMIT2).permitWitnessTransferFrom(
            IDevPermit2.PermitTransferFrom(IDevPermit2.TokenPermissions(token, amount), nonce, deadline),
            IDevPermit2.SignatureTransferDetails(ESCROW, amount),
            payer,
            keccak256(abi.encode(DEPOSIT_WITNESS_TYPEHASH, channelId)),
            WITNESS_TYPE_STRING,
            signature
        );
    }
}

/** Multicall3's tryAggregate, which the reference facilitator reads channel state through. */
contract DevMulticall3 {
    struct Call {
        address target;
        bytes callData;
    }
    struct Result {
        bool success;
        bytes returnData;
    }

    function tryAggregate(bool requireSuccess, Call[] calldata calls) external returns (Result[] memory results) {
        results = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory out) = calls[i].target.call(calls[i].callData);
            require(ok || !requireSuccess, "Multicall3: call failed");
            results[i] = Result(ok, out);
        }
    }
}
