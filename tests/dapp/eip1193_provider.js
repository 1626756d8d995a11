// An EIP-1193 provider injected into every frame of the test browser, answering as MetaMask does:
// it starts on Ethereum mainnet, knows only the chains it was told about (wallet_addEthereumChain adds one
// and switches to it, wallet_switchEthereumChain to an unknown chain fails with 4902), exposes no account
// until eth_requestAccounts, and forwards everything else (eth_sendTransaction included) to anvil, whose
// unlocked accounts sign. __LEC_CONFIG__ is replaced by the test with {rpcUrl, account, chainIdHex}.
(function () {
  const config = __LEC_CONFIG__;
  const store = window.top === window ? window : window.top;  // one wallet per tab, shared by its frames
  const wallet = store.__lecWallet || (store.__lecWallet = {
    chainId: "0x1",
    known: { "0x1": { rpcUrls: [] } },
    connected: false,
    watched: [],
    log: [],
    listeners: {},
  });
  let nextId = 1;

  function providerError(code, message) {
    const e = new Error(message);
    e.code = code;
    return e;
  }
  function emit(event, value) {
    (wallet.listeners[event] || []).forEach(function (fn) { try { fn(value); } catch (e) { /* listener's own */ } });
  }
  async function forward(method, params) {
    if (wallet.chainId !== config.chainIdHex) {
      throw providerError(4901, "The wallet is connected to chain " + wallet.chainId + ", not to the LEC network.");
    }
    const reply = await fetch(config.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: method, params: params || [] }),
    });
    const body = await reply.json();
    if (body.error) throw providerError(body.error.code, body.error.message);
    return body.result;
  }

  async function request(args) {
    const method = args.method;
    const params = args.params || [];
    wallet.log.push(method);
    switch (method) {
      case "eth_chainId":
        return wallet.chainId;
      case "net_version":
        return String(parseInt(wallet.chainId, 16));
      case "eth_accounts":
        return wallet.connected ? [config.account] : [];
      case "eth_requestAccounts":
        if (!wallet.connected) {
          wallet.connected = true;
          emit("accountsChanged", [config.account]);
        }
        return [config.account];
      case "wallet_addEthereumChain": {
        const chain = params[0] || {};
        if (!chain.chainId || !chain.rpcUrls || !chain.rpcUrls.length || !chain.nativeCurrency) {
          throw providerError(-32602, "Invalid chain parameters.");
        }
        wallet.known[chain.chainId.toLowerCase()] = chain;
        if (wallet.chainId !== chain.chainId.toLowerCase()) {
          wallet.chainId = chain.chainId.toLowerCase();
          emit("chainChanged", wallet.chainId);
        }
        return null;
      }
      case "wallet_switchEthereumChain": {
        const id = ((params[0] || {}).chainId || "").toLowerCase();
        if (!wallet.known[id]) throw providerError(4902, "Unrecognized chain ID " + id + ".");
        if (wallet.chainId !== id) {
          wallet.chainId = id;
          emit("chainChanged", id);
        }
        return null;
      }
      case "wallet_watchAsset": {
        const options = (params && params.options) || {};
        if (params.type !== "ERC20" || !options.address || !options.symbol) {
          throw providerError(-32602, "Invalid asset parameters.");
        }
        wallet.watched.push(options);
        return true;
      }
      case "eth_sendTransaction": {
        if (!wallet.connected) throw providerError(4100, "The requested account has not been authorized.");
        const tx = Object.assign({}, params[0]);
        if ((tx.from || "").toLowerCase() !== config.account.toLowerCase()) {
          throw providerError(4100, "The requested account has not been authorized.");
        }
        if (config.reject && config.reject.indexOf(method) >= 0) {
          throw providerError(4001, "MetaMask Tx Signature: User denied transaction signature.");
        }
        return forward(method, [tx]);
      }
      default:
        return forward(method, params);
    }
  }

  window.ethereum = {
    isMetaMask: true,
    request: request,
    on: function (event, fn) { (wallet.listeners[event] = wallet.listeners[event] || []).push(fn); return this; },
    removeListener: function (event, fn) {
      wallet.listeners[event] = (wallet.listeners[event] || []).filter(function (f) { return f !== fn; });
      return this;
    },
  };
})();
