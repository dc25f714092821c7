"""Answer generate requests one at a time on a thread, streaming the text as it comes.

transformers' `generate` runs on its own thread, feeding a TextIteratorStreamer that this worker drains into
token replies; a StoppingCriteria reads the stop flag after every token, so a stop request ends an answer at
once. Base answers on an adapter run use the same weights with the adapter switched off (PEFT's
`disable_adapter()`), which is safe because only one answer is generated at a time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from tuiapp.core.chat.protocol import Done, Error, Generate, Reply, Token
from tuiapp.core.user_error import UserError
from tuiapp.training.chat_model import ChatModel, context_length
from tuiapp.training.chat_prompt import prompt_ids, stop_token_ids


def _stop_criteria(flag: threading.Event) -> Any:
    """A StoppingCriteria that ends generation when `flag` is set; it records when the first token came."""
    import torch
    from transformers import StoppingCriteria

    class FlagStop(StoppingCriteria):
        def __init__(self) -> None:
            self.first_token_at: float | None = None
            self.fired = False

        def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
            if self.first_token_at is None:
                self.first_token_at = time.monotonic()
            self.fired = self.fired or flag.is_set()
            return torch.full((input_ids.shape[0],), self.fired, dtype=torch.bool, device=input_ids.device)

    return FlagStop()


class Generator:
    """The queue of generate requests and the one thread that answers them, in order."""

    def __init__(self, chat: ChatModel, send: Callable[[Reply], None]) -> None:
        self.chat, self._send = chat, send
        self._pending: deque[Generate] = deque()
        self._lock = threading.Condition()
        self._current: Generate | None = None
        self._stop_flag = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="chat-generate", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, request: Generate) -> None:
        with self._lock:
            self._pending.append(request)
            self._lock.notify()

    def stop(self, request_id: str | None) -> None:
        """Stop `request_id` (None: the current answer and every waiting one); an unknown id is already done."""
        with self._lock:
            if self._current is not None and request_id in (None, self._current.id):
                self._stop_flag.set()
            dropped = [r for r in self._pending if request_id in (None, r.id)]
            for request in dropped:
                self._pending.remove(request)
        for request in dropped:
            self._send(Done(request.id, 0, 0.0, stopped=True))

    def close(self, timeout: float = 10.0) -> None:
        """Stop everything and wait (a while) for the thread to end."""
        self.stop(None)
        with self._lock:
            self._closed = True
            self._lock.notify()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                request = self._current = self._pending.popleft()
                self._stop_flag.clear()
            try:
                self._send(self._answer(request))
            except UserError as exc:
                self._send(Error(str(exc), id=request.id))
            except Exception as exc:  # an answer that fails leaves the chat alive: say so, go on
                self._send(Error(f"generation failed: {type(exc).__name__}: {str(exc)[:500]}", id=request.id))
            finally:
                with self._lock:
                    self._current = None

    def _answer(self, request: Generate) -> Done:
        import torch
        from transformers import GenerationConfig, StoppingCriteriaList, TextIteratorStreamer

        chat, settings = self.chat, request.settings
        if request.which not in chat.sides:
            raise UserError(f"this chat loaded the base model alone: it has no {request.which} answers")
        started = time.monotonic()
        model = chat.model if request.which == "tuned" else chat.base()
        room = context_length(model, chat.tokenizer) - settings.max_new_tokens
        ids, _ = prompt_ids(chat.tokenizer, request.messages, chat.mode, room)
        stops = stop_token_ids(model, chat.tokenizer)
        pad = chat.tokenizer.pad_token_id if chat.tokenizer.pad_token_id is not None else (stops or [0])[0]
        config = GenerationConfig(
            max_new_tokens=settings.max_new_tokens,
            do_sample=not settings.greedy,
            temperature=settings.temperature if not settings.greedy else None,
            top_p=settings.top_p if not settings.greedy else None,
            top_k=None,
            repetition_penalty=settings.repetition_penalty,
            eos_token_id=stops or None,
            pad_token_id=pad,
        )
        input_ids = torch.tensor([ids], device=model.device)
        streamer = TextIteratorStreamer(chat.tokenizer, skip_prompt=True, skip_special_tokens=True)
        criteria = _stop_criteria(self._stop_flag)
        outcome: dict[str, Any] = {}
        adapter_off = request.which == "base" and chat.has_adapter

        def run() -> None:
            try:
                with model.disable_adapter() if adapter_off else nullcontext(), torch.inference_mode():
                    outcome["ids"] = model.generate(
                        input_ids=input_ids,
                        attention_mask=torch.ones_like(input_ids),
                        generation_config=config,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([criteria]),
                    )
            except BaseException as exc:  # handed to the worker, which reports it
                outcome["error"] = exc
                streamer.end()

        thread = threading.Thread(target=run, name="chat-model-generate", daemon=True)
        thread.start()
        for text in streamer:
            if text:
                self._send(Token(request.id, text))
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        tokens = int(outcome["ids"].shape[1]) - len(ids)
        first = criteria.first_token_at
        return Done(
            request.id,
            tokens,
            round(time.monotonic() - started, 3),
            stopped=criteria.fired,
            first_token_seconds=None if first is None else round(first - started, 3),
        )
