"""The transformers backend of the Policy protocol (CPU and GPU).

Generation: the `n` samples of every prompt become rows; rows are sorted by prompt length (little
padding), left-padded into batches of `batch_size`, and each batch is one decode loop. A batch that
runs out of memory is retried at half the size (the smaller size is kept for later calls).

Finished rows leave the batch: a row that hits EOS or a stop string is dropped from the KV cache at
that step, so the batch shrinks as its rows finish. `model.generate` keeps decoding finished rows
(static batching) until the longest row ends; on a CPU a decode step of 16 rows costs ~3x one of 1-2
rows, and MCTS steps, evaluations and answers differ widely in length, so the tail was mostly waste.

Shared prefill (`prefix_sharing`): on a CPU, prefill is compute-bound and costs as much per row as
decoding a hundred tokens, yet the rows of one batch repeat each other: the n samples of a prompt are
the same tokens (MCTS children, beam candidates), and prompts of one stage open with the same
instructions. So a batch is laid out as [common prefix | left-padded distinct suffixes]; the prefix
is run once, its KV cache copied to every distinct prompt, their suffixes (all but the last token)
run once each, and the cache copied to every row before decoding continues from it. Positions come
from the attention mask (as `generate` computes them), so a row sees exactly the tokens and positions
of the plain left-padded layout; outputs agree with it up to float rounding.

Log-probs: `mean_logprob` is the mean, over the generated tokens, of log pi(token | prefix) under the
model's own distribution (raw logits, temperature 1, no top-p truncation) — the policy's likelihood of
what it sampled, comparable across sampling temperatures. SEER uses exp(mean_logprob) as the PUCT
prior. It is read from the raw logits of each step before temperature and top-p are applied, so no
(steps x batch x vocab) score tensor is ever kept.

Stops: a sequence stops as soon as its generated text holds a stop string (or EOS); its text is cut
right after the first stop string, which is kept.

Values (extension point): pass `value_fn`, a callable mapping the last hidden state of each text,
shape (batch, hidden), to values in [-1, 1], shape (batch,). The policy-value model of the training
issue passes e.g. `value_fn=lambda h: torch.tanh(head(h)).squeeze(-1)`; `value(texts)` then runs the
decoder once per batch and applies it at each text's final token.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from seer import progress
from seer.llm.policy import GenerateRequest, Generation

log = logging.getLogger(__name__)

ValueFn = Callable[[torch.Tensor], torch.Tensor]
T = TypeVar("T")
R = TypeVar("R")


def is_oom(e: BaseException) -> bool:
    return isinstance(e, torch.OutOfMemoryError) or (isinstance(e, RuntimeError) and "out of memory" in str(e))


# candidates per row drawn from first: a language model's 1024 likeliest tokens hold nearly all its
# mass, and sorting or sampling a whole 150k vocabulary for every row is ~40% of a CPU decode step
CANDIDATES = 1024


def pick_tokens(logits: torch.Tensor, temperature: float, top_p: float, gen: torch.Generator) -> torch.Tensor:
    """The next token of each row: greedy at temperature 0, else sampled from the tempered
    distribution cut to its top-p nucleus (the likeliest token is always kept), as transformers'
    temperature and top-p warpers define it.

    Exact but cheap: the draw is among the likeliest `CANDIDATES` tokens plus one "elsewhere"
    bucket holding the rest of the mass; only a row that draws the bucket, or whose nucleus reaches
    past the candidates, is drawn again over the whole vocabulary."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = (logits / temperature).softmax(-1)
    top, idx = probs.topk(min(CANDIDATES, probs.shape[-1]), dim=-1)
    k = top.shape[1]
    if top_p < 1.0:
        top = top * ((top.cumsum(-1) - top) < top_p)  # a token stays while the likelier ones hold < top_p
        redo = top[:, -1] > 0  # the nucleus may reach past the candidates
        rest = torch.zeros_like(top[:, :1])
    else:
        redo = torch.zeros(len(top), dtype=torch.bool, device=top.device)
        rest = (1 - top.sum(-1, keepdim=True)).clamp(min=0)
    pick = torch.multinomial(torch.cat([top, rest], -1), 1, generator=gen).squeeze(1)
    out = idx.gather(1, pick.clamp(max=k - 1)[:, None]).squeeze(1)
    for r in (redo | (pick == k)).nonzero().flatten().tolist():
        p = probs[r]
        if top_p < 1.0:  # the whole nucleus
            sp, order = p.sort(descending=True)
            p = torch.zeros_like(p).scatter(0, order, sp * ((sp.cumsum(0) - sp) < top_p))
        else:  # a token outside the candidates, in proportion to its probability
            p = p.clone()
            p[idx[r]] = 0
        out[r] = torch.multinomial(p, 1, generator=gen)[0]
    return out


class StopCheck:
    """Whether a row's generated tokens end it: EOS, or a stop string inside its text.

    Only the tail that could complete a stop string is decoded (a stop string of b bytes spans at
    most b + 1 tokens), so a check costs O(1) per row and step, not O(length)."""

    def __init__(self, tokenizer: Any, stop: Sequence[str], eos_ids: set[int]) -> None:
        self.tok = tokenizer
        self.stop = [s for s in stop if s]
        self.window = max((len(s.encode()) for s in self.stop), default=0) + 1
        self.eos_ids = eos_ids

    def __call__(self, tokens: list[int]) -> bool:
        if tokens[-1] in self.eos_ids:
            return True
        if not self.stop:
            return False
        tail = self.tok.decode(tokens[-self.window:], skip_special_tokens=True)
        return any(s in tail for s in self.stop)


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """`text` up to and including the earliest stop string; (text, whether a stop string was found)."""
    best = None
    for s in stop:
        i = text.find(s) if s else -1
        if i >= 0 and (best is None or i < best[0]):
            best = (i, len(s))
    if best is None:
        return text, False
    return text[: best[0] + best[1]], True


@dataclass(frozen=True)
class BatchLayout:
    """Rows of one generate batch laid out as [shared prefix | left-padded suffixes].

    ``ids``/``mask``: (rows, width); columns ``:prefix`` hold the tokens every row starts with.
    ``first``: the row of each distinct prompt's first occurrence; ``which``: each row's distinct prompt.
    With ``prefix == 0`` the layout is plain left padding.
    """

    ids: torch.Tensor
    mask: torch.Tensor
    prefix: int
    first: list[int]
    which: list[int]

    @property
    def saves_prefill(self) -> bool:
        return len(self.which) > 1 and (self.prefix > 0 or len(self.first) < len(self.which))


def layout_batch(seqs: Sequence[list[int]], pad_id: int, share: bool) -> BatchLayout:
    """Lay out prompts for one call; ``share`` finds their repeats and common prefix (without it,
    every row is its own prompt and the layout is plain left padding)."""
    first: list[int] = list(range(len(seqs)))
    which: list[int] = list(range(len(seqs)))
    prefix = 0
    if share:
        index: dict[tuple[int, ...], int] = {}
        first = []
        for r, s in enumerate(seqs):
            k = index.setdefault(tuple(s), len(first))
            if k == len(first):
                first.append(r)
            which[r] = k
        distinct = [seqs[r] for r in first]
        # every row keeps at least its last token out of the prefix: generate must run it for logits
        prefix = min(min(common_prefix(distinct[0], s) for s in distinct), min(len(s) for s in distinct) - 1)
    width = prefix + max(len(s) - prefix for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, :prefix] = torch.tensor(s[:prefix], dtype=torch.long)
        mask[r, :prefix] = 1
        tail = s[prefix:]
        if tail:
            ids[r, width - len(tail):] = torch.tensor(tail, dtype=torch.long)
            mask[r, width - len(tail):] = 1
    return BatchLayout(ids, mask, prefix, first, which)


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids from an attention mask, as `generate` derives them (pads at 0)."""
    return (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)


class TransformersPolicy:
    """A Policy over a transformers causal LM (see the module docstring)."""

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 32, device: str = "cpu", seed: int = 0,
                 chat_template: bool = True, max_context: int = 0, progress: bool = True,
                 value_fn: ValueFn | None = None, prefix_sharing: bool = True) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = max(1, batch_size)
        self.device = torch.device(device)
        self.seed = seed
        self.chat_template = chat_template and bool(getattr(tokenizer, "chat_template", None))
        if chat_template and not self.chat_template:
            log.warning("the tokenizer has no chat template: prompts are plain text (model.chat_template=false)")
        self.max_context = max_context or int(getattr(model.config, "max_position_embeddings", 0) or 0) or 2048
        self.progress = progress
        self.value_fn = value_fn
        self.prefix_sharing = prefix_sharing
        self._calls = 0
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        eos = {tokenizer.eos_token_id} | set(_as_list(getattr(model.generation_config, "eos_token_id", None)))
        self.eos_ids = {int(i) for i in eos if i is not None}

    @property
    def has_value_head(self) -> bool:
        return self.value_fn is not None

    # --- prompts and tokens -------------------------------------------------------------------
    def chat_prompt(self, user: str, system: str | None = None, assistant_prefix: str = "") -> str:
        if not self.chat_template:
            return "\n\n".join(p for p in (system, user) if p) + "\n\n" + assistant_prefix
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text + assistant_prefix

    def encode(self, text: str) -> list[int]:
        # a BOS the chat template already wrote must not be doubled; plain prompts get the tokenizer's
        bos = self.tokenizer.bos_token
        add = not (bos and text.startswith(bos))
        return self.tokenizer(text, add_special_tokens=add)["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # --- batching with out-of-memory fallback ---------------------------------------------------
    def _run_batched(self, items: Sequence[T], fn: Callable[[Sequence[T], int], list[R]], desc: str) -> list[R]:
        """fn(chunk, chunk_index) over consecutive chunks of `items`, halving the batch on OOM."""
        out: list[R] = []
        i = k = 0
        with progress.task("seq", len(items), desc=desc, bar=self.progress) as bar:
            while i < len(items):
                chunk = items[i: i + self.batch_size]
                try:
                    res = fn(chunk, k)
                except Exception as e:
                    if not is_oom(e) or self.batch_size == 1:
                        raise
                    self.batch_size = max(1, len(chunk) // 2)
                    log.warning("out of memory at batch %d; retrying with batch size %d", len(chunk),
                                self.batch_size)
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                    continue
                out.extend(res)
                i += len(chunk)
                k += 1
                bar.advance(len(chunk))
        return out

    # --- generation -----------------------------------------------------------------------------
    def generate(self, prompts: Sequence[str], req: GenerateRequest) -> list[list[Generation]]:
        call_seed = req.seed if req.seed is not None else random.Random(f"{self.seed}:{self._calls}").getrandbits(31)
        self._calls += 1
        encoded = [self.encode(p) for p in prompts]
        results: list[list[Generation | None]] = [[None] * req.n for _ in prompts]
        rows: list[tuple[int, int]] = []
        for i, ids in enumerate(encoded):
            if len(ids) >= self.max_context:  # no room to generate: SEER scores such a node -1
                results[i] = [Generation("", 0, 0.0, "context") for _ in range(req.n)]
            else:
                rows.extend((i, j) for j in range(req.n))
        # longest first: similar lengths share a batch, and an OOM shows up on the first batch
        rows.sort(key=lambda r: (-len(encoded[r[0]]), r[0], r[1]))

        def run(chunk: Sequence[tuple[int, int]], k: int) -> list[Generation]:
            return self._generate_batch([encoded[i] for i, _ in chunk], req, seed=call_seed + 7919 * k)

        gens = self._run_batched(rows, run, desc="generate")
        for (i, j), g in zip(rows, gens):
            results[i][j] = g
        return results  # type: ignore[return-value]

    @torch.inference_mode()
    def _run_groups(self, texts: list[list[int]], prefix: int, width: int,
                    want_cache: bool) -> tuple[DynamicCache, list[torch.Tensor | None]]:
        """The decoder over distinct token sequences, every shared part run once: their common
        ``prefix`` (one row), then per group of texts continuing one prompt (`prompt_groups`) the
        group's common part (one row), then each text's own rest (a batch per group).

        Returns, with ``want_cache``, the KV cache of all their tokens laid out as `layout_batch`
        lays them out (the prefix, then each text's rest right-aligned at column ``width``, pads
        between: zeros the attention mask hides; empty without), and each text's last hidden state
        (None for a text with no token after the prefix).
        Prefill is compute-bound on a CPU, so a group at a time costs what one batch would."""
        decoder = self.model.get_decoder()  # hidden states only: no lm_head over the prompt
        dev = self.device
        base: list[tuple[torch.Tensor, torch.Tensor]] = []
        if prefix:
            c = new_cache(self.model.config)
            decoder(input_ids=torch.tensor([texts[0][:prefix]], device=dev), past_key_values=c, use_cache=True)
            base = [(layer.keys, layer.values) for layer in c.layers]
        cols: list[list[torch.Tensor]] | None = None  # per layer: [keys, values] of shape (texts, heads, width, dim)
        hidden: list[torch.Tensor | None] = [None] * len(texts)
        for group in prompt_groups(texts, skip=prefix):
            seqs = [texts[u] for u in group]
            # the group's common part (token order: the first and last share what all share); each
            # text keeps a token of its own to run, for its hidden state
            q = max(prefix, min(common_prefix(seqs[0], seqs[-1]), min(len(x) for x in seqs) - 1))
            cache = _cache_of(self.model.config, base)
            if q > prefix:
                decoder(input_ids=torch.tensor([seqs[0][prefix:q]], device=dev),
                        position_ids=torch.arange(prefix, q, device=dev)[None], past_key_values=cache, use_cache=True)
            cache.batch_select_indices(torch.zeros(len(seqs), dtype=torch.long, device=dev))
            rest = max(len(x) - q for x in seqs)
            if rest == 0:  # the prefix is all there is (the n samples of one prompt)
                continue
            ids = torch.full((len(seqs), rest), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(seqs), q + rest), dtype=torch.long)
            mask[:, :q] = 1
            for i, x in enumerate(seqs):
                ids[i, rest - (len(x) - q):] = torch.tensor(x[q:], dtype=torch.long)
                mask[i, q + rest - (len(x) - q):] = 1
            mask = mask.to(dev)
            out = decoder(input_ids=ids.to(dev), attention_mask=mask, position_ids=positions(mask)[:, q:],
                          past_key_values=cache, use_cache=True)
            for i, (u, x) in enumerate(zip(group, seqs)):
                if len(x) > q:
                    hidden[u] = out.last_hidden_state[i, -1]
            if not want_cache:
                continue
            if cols is None:
                cols = [[t.new_zeros((len(texts), t.shape[1], width, t.shape[3])) for t in (layer.keys, layer.values)]
                        for layer in cache.layers]
            for i, (u, x) in enumerate(zip(group, seqs)):
                # the columns holding this text's tokens after the prefix, in the group's cache and in the layout
                src = torch.cat([torch.arange(prefix, q), q + mask[i, q:].nonzero().flatten().cpu()]).to(dev)
                dst = torch.arange(width - (len(x) - prefix), width, device=dev)
                for (k, v), layer in zip(cols, cache.layers):
                    k[u, :, dst] = layer.keys[i, :, src]
                    v[u, :, dst] = layer.values[i, :, src]
        if not want_cache:
            return DynamicCache(config=self.model.config), hidden
        if cols is None:  # no text has a token after the prefix
            return _cache_of(self.model.config, [(k.expand(len(texts), -1, -1, -1), v.expand(len(texts), -1, -1, -1))
                                                 for k, v in base]), hidden
        for (k, v), (bk, bv) in zip(cols, base):
            k[:, :, :prefix] = bk
            v[:, :, :prefix] = bv
        return _cache_of(self.model.config, [(k, v) for k, v in cols]), hidden

    def _prefill_shared(self, lay: BatchLayout, seqs: Sequence[list[int]]) -> DynamicCache:
        """The KV cache of every row's prompt (``seqs``, laid out as ``lay``) but its last token,
        each shared part computed once."""
        texts = [seqs[r][:-1] for r in lay.first]
        cache, _ = self._run_groups(texts, lay.prefix, lay.ids.shape[1] - 1, want_cache=True)
        cache.batch_select_indices(torch.tensor(lay.which, dtype=torch.long, device=self.device))
        return cache

    @torch.inference_mode()
    def _generate_batch(self, seqs: list[list[int]], req: GenerateRequest, seed: int) -> list[Generation]:
        lay = layout_batch(seqs, self.pad_id, share=self.prefix_sharing)
        ids, mask = lay.ids.to(self.device), lay.mask.to(self.device)
        if lay.saves_prefill:
            cache, feed = self._prefill_shared(lay, seqs), ids[:, -1:]
        else:
            cache, feed = new_cache(self.model.config), ids
        pos = positions(mask)[:, -feed.shape[1]:]
        max_new = max(1, min(req.max_tokens, self.max_context - ids.shape[1]))
        stops = StopCheck(self.tokenizer, req.stop, self.eos_ids)
        gen = torch.Generator(device=self.device).manual_seed(seed)
        tokens: list[list[int]] = [[] for _ in seqs]
        logps: list[list[float]] = [[] for _ in seqs]
        done = [False] * len(seqs)
        live = list(range(len(seqs)))  # the original row of each batch row still generating
        for step in range(max_new):
            # the lm_head over the last position only (generate does the same)
            logits = self.model(input_ids=feed, attention_mask=mask, position_ids=pos, past_key_values=cache,
                                use_cache=True, logits_to_keep=1).logits[:, -1, :].float()
            nxt = pick_tokens(logits, req.temperature, req.top_p, gen)
            # log pi(token) under the raw (untempered, untruncated) distribution
            lp = torch.log_softmax(logits, -1).gather(1, nxt[:, None]).squeeze(1)
            keep = []
            for b, (r, t, l) in enumerate(zip(live, nxt.tolist(), lp.tolist())):
                tokens[r].append(t)
                logps[r].append(l)
                done[r] = stops(tokens[r])
                if not done[r]:
                    keep.append(b)
            progress.add(tokens=len(live))  # live tok/s in the log while a long batch decodes
            if not keep or step == max_new - 1:
                break
            if len(keep) < len(live):
                # finished rows leave the batch: static batching would decode them to the end
                idx = torch.tensor(keep, dtype=torch.long, device=self.device)
                cache.batch_select_indices(idx)
                mask, nxt = mask[idx], nxt[idx]
                live = [live[b] for b in keep]
            mask = torch.cat([mask, mask.new_ones((len(live), 1))], dim=1)
            pos = mask.sum(-1, keepdim=True) - 1
            feed = nxt[:, None]
        res = []
        for toks, lps, finished in zip(tokens, logps, done):
            text, stopped = cut_at_stop(self.tokenizer.decode(toks, skip_special_tokens=True), req.stop)
            res.append(Generation(text=text, n_tokens=len(toks), mean_logprob=sum(lps) / len(lps),
                                  finish_reason="stop" if finished or stopped else "length"))
        return res

    # --- values ---------------------------------------------------------------------------------
    def value(self, texts: Sequence[str]) -> list[float]:
        """Value of each text (prompt + steps so far) from the hidden state at its final token."""
        if self.value_fn is None:
            raise NotImplementedError("this policy has no value head (pass value_fn, see seer.llm.hf_backend)")
        # keep the tail of an over-long text: the value is read at its end
        encoded = [self.encode(t)[-self.max_context:] for t in texts]
        # token order puts the texts that continue one prompt (siblings, beam candidates) side by side
        order = sorted(range(len(texts)), key=lambda i: encoded[i] if self.prefix_sharing else -len(encoded[i]))
        vals = self._run_batched(order, lambda chunk, k: self._value_batch([encoded[i] for i in chunk]), "value")
        out = [0.0] * len(texts)
        for i, v in zip(order, vals):
            out[i] = v
        return out

    @torch.inference_mode()
    def _value_batch(self, seqs: list[list[int]]) -> list[float]:
        assert self.value_fn is not None
        lay = layout_batch(seqs, self.pad_id, share=self.prefix_sharing)
        texts = [seqs[r] for r in lay.first]
        if self.prefix_sharing:
            # the decoder alone: its last hidden state is what the value head reads
            # every text runs a token past the prefix (layout_batch keeps one out), so each has a state
            _, states = self._run_groups(texts, lay.prefix, 0, want_cache=False)
            hidden = torch.stack(states)  # type: ignore[arg-type]
        else:
            mask = lay.mask.to(self.device)
            hidden = self.model.get_decoder()(input_ids=lay.ids.to(self.device), attention_mask=mask,
                                              position_ids=positions(mask)).last_hidden_state[:, -1, :]
        vals = self.value_fn(hidden).float().cpu().tolist()
        return [float(vals[k]) for k in lay.which]


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def prompt_groups(seqs: Sequence[list[int]], skip: int = 0) -> list[list[int]]:
    """Indices of the sequences grouped by the prompt they continue: in token order, consecutive
    runs sharing at least half of their tokens after the first ``skip`` (the prefix every sequence
    shares, e.g. a stage's instructions). Siblings, beam candidates and the evaluations of one
    node's children share their whole prompt; different tasks share only the instructions."""
    order = sorted(range(len(seqs)), key=lambda i: seqs[i])
    groups: list[list[int]] = []
    for i in order:
        if groups:
            head = seqs[groups[-1][0]]
            if 2 * (common_prefix(head, seqs[i]) - skip) >= min(len(head), len(seqs[i])) - skip:
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


class GrowingLayer(DynamicLayer):
    """A KV-cache layer that writes new tokens into spare capacity instead of concatenating.

    `DynamicLayer` grows by `torch.cat`, copying the whole cache of every layer at every decode
    step (quadratic in the generated length); here a step writes only its own token and the buffer
    doubles when full. Same keys and values, as views: 18% faster decoding measured on SmolLM2
    (8 rows, 500-token prompts, 100 steps)."""

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.dtype, self.device = key_states.dtype, key_states.device
        self.length = 0
        self.buf_k = key_states.new_empty((*key_states.shape[:2], 0, key_states.shape[3]))
        self.buf_v = self.buf_k.clone()
        self.is_initialized = True

    def _resize(self, rows: torch.Tensor | None, capacity: int) -> None:
        """New buffers of ``capacity`` tokens holding the cached ones (of the given rows only)."""
        k = self.buf_k if rows is None else self.buf_k[rows, :, : self.length]
        v = self.buf_v if rows is None else self.buf_v[rows, :, : self.length]
        self.buf_k = k.new_empty((k.shape[0], k.shape[1], capacity, k.shape[3]))
        self.buf_v = torch.empty_like(self.buf_k)
        self.buf_k[:, :, : self.length] = k[:, :, : self.length]
        self.buf_v[:, :, : self.length] = v[:, :, : self.length]
        self._views()

    def _views(self) -> None:
        self.keys, self.values = self.buf_k[:, :, : self.length], self.buf_v[:, :, : self.length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        new = key_states.shape[-2]
        if self.length + new > self.buf_k.shape[-2]:
            self._resize(None, max(2 * (self.length + new), 64))
        self.buf_k[:, :, self.length: self.length + new] = key_states
        self.buf_v[:, :, self.length: self.length + new] = value_states
        self.length += new
        self._views()
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.get_seq_length() > 0:
            self._resize(indices, self.buf_k.shape[-2])


def new_cache(config: Any) -> DynamicCache:
    """A DynamicCache whose full-attention layers are `GrowingLayer`s (sliding-window ones stay)."""
    cache = DynamicCache(config=config)
    cache.layers = [GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


def _cache_of(config: Any, layers: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> DynamicCache:
    """A cache holding the given (keys, values) per layer (copies: updates never alias them)."""
    cache = new_cache(config)
    for i, (k, v) in enumerate(layers):
        cache.update(k, v, i)
    return cache


def _as_list(x: Any) -> list[Any]:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]
