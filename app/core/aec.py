"""Adaptive acoustic echo canceller: a partitioned-block frequency-domain adaptive filter (MDF / PBFDAF).

One job: given what the speaker played (the *reference*, already placed on the microphone's timeline) and one
microphone block, estimate the echo with a long FIR filter, subtract it, say how much echo is probably left,
and keep learning the filter while only our own voice reaches the microphone. Qt-free and numpy-only.

The filter (``taps`` long) is cut into P partitions of B taps, B being the block (the microphone frame, 512
samples = 32 ms at 16 kHz). Per block, with FFTs of 2B points (overlap-save):

1. ``X_p``: spectra of the P reference windows of 2B samples, partition p lagging p blocks behind the newest;
   the echo estimate ``y`` is the last B samples of ``IFFT(sum_p W_p X_p)``, the filter's error ``e = mic - y``.
   The output is ``e`` with ``y`` rescaled to the block (a young filter over- or under-predicts in our own
   pauses), or the caller's alternative (its one-tap match) when that is quieter.
2. Remaining echo: the output-to-echo-estimate power ratio (dB), learned over blocks where our echo is well
   above the noise floor and nobody talks over it; its mean plus 1.3 standard deviations (about the 90th
   percentile) times the envelope of ``|y|^2`` (held after a loud passage and decaying 3 dB per block: what is
   left of the echo dies away with the room) is the estimate the half-duplex gate compares the output with.
   Until the filter has converged, all of the output counts as echo. The noise floor is the quietest output
   block of the last three seconds (minimum statistics).
3. Double-talk detector: once converged, an output well above the remaining echo plus the noise floor means
   someone else is in the microphone: adaptation freezes (and stays frozen for a short hang-over) so the filter
   does not learn the user's voice. "Double-talk" in nearly every block for two seconds is rather a moved echo
   path, and is learned. Adaptation also stops when the reference is silent.
4. Update: a normalised per-bin step ``mu(f) / power(f)`` times ``conj(X_p) E``, constrained to B taps per
   partition (the second half of each partition's impulse response is zeroed so the blocks do not wrap): the
   newest partition every block, the others in turn (Speex's alternately updated MDF, 4 FFTs instead of 2P).
   ``power`` is the far-end power seen through proportionate per-partition weights (as in Speex: partitions
   that carry more of the echo path learn faster, the empty ones collect less noise). Once converged,
   ``mu(f)`` follows the residual-to-error ratio per bin, from the *leak*: a regression across bins of the
   error's power fluctuations on the echo estimate's (Valin, "On adjusting the learning rate in frequency
   domain echo cancellation with double-talk", 2007, as in Speex's mdf.c), large while the error is mostly
   echo the filter can still remove.

The caller passes the reference as a window of ``window`` samples that ends with the microphone block's last
sample; the canceller keeps no copy of the reference, so a caller may re-align (a clock jump) or edit the
reference (playback stopped early) without the filter's input history going stale.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class AecSettings:
    #: normalised step while the filter is still converging (share of the per-bin correction applied per block)
    step: float = 1.0
    #: after convergence the step is scaled by the residual-to-error ratio, at most this much
    max_rer: float = 0.5
    #: a residual this many times above remaining echo + noise floor (power) counts as double-talk
    double_talk_ratio: float = 4.0
    #: adaptation stays frozen for this many blocks after double-talk was last seen
    double_talk_hangover: int = 4
    #: reference blocks quieter than this (RMS, full scale 1.0) do not adapt the filter
    silent_rms: float = 1e-3
    #: the leak (Speex's remaining echo share, for the step) is never taken as lower than this
    min_leak: float = 0.005
    #: double-talk in 80% of this many blocks (with our voice playing) is taken for a moved echo path: learned
    max_double_talk_blocks: int = 62
    #: how fast the remaining-echo statistics follow (share of a new block they take)
    ratio_rate: float = 0.2
    #: the remaining-echo estimate follows the echo estimate's envelope, falling this much (power) per block
    #: after a loud passage (3 dB per 32 ms block: the echo left behind decays with the room)
    echo_decay: float = 0.5
    #: the noise floor is the quietest output block of this many (about three seconds)
    floor_blocks: int = 96
    #: the filter counts as converged once its smoothed echo-only ERLE passes this (dB) ...
    converged_erle_db: float = 6.0
    #: ... after at least this many adapting blocks
    converged_blocks: int = 16
    #: a converged filter whose echo-only ERLE stays below this (dB) for ``converged_blocks`` blocks of our voice
    #: has lost the room (on PulseAudio it fell to 0.5 dB while still "converged", its remaining-echo estimate near
    #: zero, and every echo frame passed the gate): it counts as not converged again until it has relearned
    lost_erle_db: float = 3.0
    #: ... or the caller's one-tap match leaves less than this share of the filter's output power (6 dB better)
    outdone_ratio: float = 0.25


@dataclass(frozen=True, slots=True)
class AecFrame:
    """One block through the canceller. Powers are mean squares over the block (full scale 1.0)."""

    residual: np.ndarray  # the output
    echo: np.ndarray  # what was taken out of the microphone block
    mic_power: float
    echo_power: float  # of the filter's echo estimate y
    residual_power: float
    remaining_echo_power: float  # estimate of the echo still in the residual
    noise_power: float  # the microphone's noise floor
    double_talk: bool
    adapted: bool  # the filter learned from this block
    converged: bool


def _power(x: np.ndarray) -> float:
    return float(np.dot(x, x) / len(x)) if len(x) else 0.0


class EchoCanceller:
    """A partitioned-block frequency-domain adaptive filter (see the module docstring)."""

    def __init__(self, taps: int, block: int = 512, settings: AecSettings | None = None) -> None:
        if block <= 0 or taps <= 0:
            raise ValueError("block and taps must be positive")
        self.block = block
        self.partitions = max(1, math.ceil(taps / block))
        self.settings = settings or AecSettings()
        self.reset()

    @property
    def taps(self) -> int:
        return self.partitions * self.block

    @property
    def window(self) -> int:
        """How many reference samples :meth:`process` needs: the filter span plus one block."""
        return (self.partitions + 1) * self.block

    def reset(self) -> None:
        """Forget everything learned (a new room, or a filter that went wrong)."""
        b, p = self.block, self.partitions
        bins = b + 1
        self._w = np.zeros((p, bins), np.complex128)  # index 0 = the oldest partition (longest delay)
        self._power = np.zeros(bins)  # smoothed reference power per bin
        self._eh = np.zeros(bins)  # slow per-bin means of residual and echo-estimate power (for the leak)
        self._yh = np.zeros(bins)
        self._pey = 0.0
        self._pyy = 0.0
        self._leak = 1.0
        self._floor = np.full(self.settings.floor_blocks, np.inf)  # recent output powers (minimum statistics)
        self._ratio_db = 0.0  # output-to-echo-estimate power ratio, mean and variance (dB); starts pessimistic
        self._ratio_var = 36.0
        self._envelope = 0.0  # echo estimate power, held and decaying after loud blocks
        self._prop = np.ones(p)  # proportionate step weights per partition (sum P)
        self._dt_recent: deque[bool] = deque(maxlen=self.settings.max_double_talk_blocks)
        self._erle_num = 0.0  # smoothed mic and residual power over echo-only blocks
        self._erle_den = 0.0
        self._adapted_blocks = 0
        self._hangover = 0
        self._lost_blocks = 0  # consecutive blocks of our voice with a converged filter below lost_erle_db
        self.converged = False
        self.losses = 0  # times a converged filter lost the room
        self.blocks = 0
        self.double_talk_blocks = 0

    # ---- read-outs ----
    @property
    def leak(self) -> float:
        return self._leak

    @property
    def erle_db(self) -> float:
        """The filter's own smoothed ERLE where only our echo was there (mic over its output power), in dB."""
        if self._erle_den <= 0.0:
            return 0.0
        return 10.0 * math.log10(max(self._erle_num, 1e-20) / self._erle_den)

    def impulse_response(self) -> np.ndarray:
        """The learned echo path as ``taps`` FIR coefficients (tap 0 = no delay)."""
        time = np.fft.irfft(self._w, n=2 * self.block, axis=1)[:, : self.block]
        return time[::-1].reshape(-1)

    def shift(self, samples: int) -> None:
        """Move the learned echo path ``samples`` later (the caller moved the reference that much earlier)."""
        if samples == 0:
            return
        taps = self.impulse_response()
        moved = np.zeros_like(taps)
        if samples > 0:
            moved[samples:] = taps[: len(taps) - samples]
        else:
            moved[:samples] = taps[-samples:]
        parts = moved.reshape(self.partitions, self.block)[::-1]
        padded = np.zeros((self.partitions, 2 * self.block))
        padded[:, : self.block] = parts
        self._w = np.fft.rfft(padded, axis=1)

    # ---- the filter ----
    def spectra(self, ref: np.ndarray) -> np.ndarray:
        """The partition spectra of a reference window (``window`` samples, last one = the block's last)."""
        ref = np.asarray(ref, dtype=np.float64).reshape(-1)
        if len(ref) != self.window:
            raise ValueError(f"the reference window must have {self.window} samples, got {len(ref)}")
        frames = np.lib.stride_tricks.sliding_window_view(ref, 2 * self.block)[:: self.block]
        return np.fft.rfft(frames, axis=1)

    def estimate(self, spectra: np.ndarray) -> np.ndarray:
        """The echo estimate for the block (float64), from :meth:`spectra`."""
        y_spec = np.einsum("pk,pk->k", self._w, spectra)
        return np.fft.irfft(y_spec, n=2 * self.block)[self.block :]

    def process(self, ref: np.ndarray, mic: np.ndarray, *, spectra: np.ndarray | None = None,
                echo: np.ndarray | None = None, alternative: np.ndarray | None = None) -> AecFrame:
        """Cancel the echo in one microphone block and learn from it (see the module docstring).

        ``spectra`` and ``echo`` may be passed when the caller already computed them for this reference.
        ``alternative`` is another canceller's output for the same block (the caller's one-tap match): the
        quieter of the two is the output. The filter always learns from its own error.
        """
        s = self.settings
        b = self.block
        d = np.asarray(mic, dtype=np.float64).reshape(-1)
        if len(d) != b:
            raise ValueError(f"the microphone block must have {b} samples, got {len(d)}")
        x = self.spectra(ref) if spectra is None else spectra
        y = self.estimate(x) if echo is None else echo
        e = d - y  # the filter's error: what it learns from
        self.blocks += 1
        syy, sdd = float(np.dot(y, y)), float(np.dot(d, d))
        # the output: the echo estimate rescaled to this block (a young filter over- or under-predicts)
        gain = min(1.0, max(-1.0, float(np.dot(e, y)) / syy)) if syy > 0.0 else 0.0
        out = e - gain * y
        see, soo = float(np.dot(e, e)), float(np.dot(out, out))
        own = soo  # the filter's own output power: convergence is judged on it
        outdone = False  # a single delayed copy of our voice (the caller's one-tap match) cancels far more
        if alternative is not None:
            other = np.asarray(alternative, dtype=np.float64).reshape(-1)
            if (energy := float(np.dot(other, other))) < soo:
                out, soo = other, energy
                outdone = energy < s.outdone_ratio * min(own, see)
        newest = np.asarray(ref, dtype=np.float64)[-b:]
        sxx = float(np.dot(newest, newest))
        ref_active = sxx > b * s.silent_rms**2

        # noise floor: the quietest output block of the last few seconds (minimum statistics)
        self._floor[self.blocks % len(self._floor)] = soo
        noise = float(self._floor.min()) * 1.5

        # remaining echo: the output-to-echo-estimate ratio, learned in dB over blocks where our echo was clearly
        # there and nobody talked over it; its mean plus 1.3 standard deviations (~ the 90th percentile), times
        # the estimate's envelope (what is left of our echo dies away with the room after a loud passage)
        self._envelope = max(syy, self._envelope * s.echo_decay)
        envelope = self._envelope
        remaining = envelope * 10.0 ** ((self._ratio_db + 1.3 * math.sqrt(self._ratio_var)) / 10.0)
        if not self.converged:  # until the filter has learned the room, all of the output may be echo
            remaining = max(remaining, soo - noise)

        # double-talk: the output is far above what our echo and the noise floor can explain
        double_talk = False
        if self.converged and ref_active and soo > s.double_talk_ratio * (remaining + noise):
            # nearly always "double-talk" for a while is rather a moved echo path: let the filter learn it
            if sum(self._dt_recent) < 0.8 * s.max_double_talk_blocks:
                double_talk = True
                self._hangover = s.double_talk_hangover
                self.double_talk_blocks += 1
        elif self._hangover > 0:
            self._hangover -= 1
            double_talk = True
        if ref_active:
            self._dt_recent.append(double_talk)
        if double_talk and see < sdd and not outdone:
            # someone talks over our voice: the filter's plain error is the output. Rescaling the estimate to the
            # block, or the one-tap match, would take out whatever of the user's voice correlates with ours. Not
            # if subtracting the estimate made the block louder, or a one-tap copy of our voice explains it far
            # better: then the filter is not on our echo (it moved)
            out, soo = e, see

        if ref_active and not double_talk:
            self._erle_num = 0.9 * self._erle_num + 0.1 * sdd
            self._erle_den = 0.9 * self._erle_den + 0.1 * max(own, 1e-20)
            if envelope > 100.0 * noise:  # our echo 20 dB above the noise: what is left of it can be measured
                ratio = 10.0 * math.log10(max(soo - noise, 0.1 * noise, 1e-5 * envelope) / envelope)  # >= -50 dB
                # robust (Huber) update: a block far off the usual (a voice under the detector's threshold)
                # counts as if it were two standard deviations off
                limit = max(3.0, 2.0 * math.sqrt(self._ratio_var))
                dev = min(max(ratio - self._ratio_db, -limit), limit)
                self._ratio_db += s.ratio_rate * dev
                self._ratio_var += s.ratio_rate * (dev * dev - self._ratio_var)

        if self.converged and ref_active:
            # lost: it cancels almost nothing where only our echo is, or a plain delayed copy of our voice explains
            # the block far better (then the "double-talk" it sees is our own echo it no longer models)
            lost = outdone or (not double_talk and self.erle_db < s.lost_erle_db)
            self._lost_blocks = self._lost_blocks + 1 if lost else 0
            if self._lost_blocks >= s.converged_blocks:
                self._lose_the_room()

        pad = np.zeros(2 * b)
        pad[b:] = e
        e_spec = np.fft.rfft(pad)
        adapted = ref_active and not double_talk
        if adapted:
            self._adapt(x, e_spec, e, y, see, syy, sxx)
        scale = 1.0 / b
        return AecFrame(
            residual=out.astype(np.float32),
            echo=(d - out).astype(np.float32),
            mic_power=sdd * scale,
            echo_power=syy * scale,
            residual_power=soo * scale,
            remaining_echo_power=remaining * scale,
            noise_power=noise * scale,
            double_talk=double_talk,
            adapted=adapted,
            converged=self.converged,
        )

    def _lose_the_room(self) -> None:
        """The filter no longer cancels our echo: until it has learned it again, all of its output may be echo
        (the gate then goes by its one-tap match), and the remaining-echo statistics start pessimistic again.
        The weights stay: a path that only moved a little is relearned from them."""
        self.converged = False
        self.losses += 1
        self._lost_blocks = 0
        self._ratio_db, self._ratio_var = 0.0, 36.0
        self._erle_num = self._erle_den = 0.0

    def _adapt(self, x: np.ndarray, e_spec: np.ndarray, e: np.ndarray, y: np.ndarray, see: float, syy: float,
               sxx: float) -> None:
        s = self.settings
        b = self.block
        pad = np.zeros(2 * b)
        pad[b:] = y
        y_spec = np.fft.rfft(pad)
        rf = e_spec.real**2 + e_spec.imag**2 + 1e-20
        yf = y_spec.real**2 + y_spec.imag**2

        # leak (Valin 2007): regression of the error's power fluctuations on the echo estimate's, across bins;
        # it sets the step: large while the error is mostly echo the filter can still remove, small otherwise
        eh, yh = rf - self._eh, yf - self._yh
        pey, pyy = float(np.dot(eh, yh)), float(np.dot(yh, yh))
        avg = b / 16_000
        self._eh += avg * eh
        self._yh += avg * yh
        if pyy > 0.0 and see > 0.0:
            pyy = math.sqrt(pyy)
            alpha = min(2.0 * avg * syy, 0.5 * avg * see) / see
            self._pey = (1.0 - alpha) * self._pey + alpha * pey / pyy
            self._pyy = (1.0 - alpha) * self._pyy + alpha * pyy
            if self._pyy > 0.0:
                self._leak = min(1.0, max(s.min_leak, self._pey / self._pyy))

        # proportionate step (as in Speex): partitions that carry more of the echo path learn faster, so the
        # empty ones (before the delay, after the tail) collect less noise; the weights sum to P
        if self._adapted_blocks % 4 == 0:  # the weights move slowly: re-read every fourth block
            w = self._w.view(np.float64)
            norms = np.sqrt(np.einsum("pk,pk->p", w, w))
            prop = norms + 0.1 * float(norms.max()) + 1e-12
            self._prop = prop * (self.partitions / float(prop.sum()))
        prop = self._prop
        # the far-end power per bin seen through those weights, smoothed (fast up, slow down)
        xf = np.einsum("p,pk,pk->k", prop, x.real, x.real) + np.einsum("p,pk,pk->k", prop, x.imag, x.imag)
        self._power = xf if not self._adapted_blocks else np.maximum(xf, 0.7 * self._power + 0.3 * xf)

        if self.converged:
            # residual-to-error ratio: the share of the error that is echo the filter could still remove
            rer = (1e-4 * sxx + 3.0 * self._leak * syy) / max(see, 1e-20)
            rer = max(rer, float(np.dot(e, y)) ** 2 / max(see * syy, 1e-30))
            rer = min(rer, s.max_rer)
            r = np.minimum(self._leak * yf, 0.5 * rf)
            mu = s.step * 2.0 * (0.7 * r + 0.3 * rer * rf) / rf
        else:
            mu = np.full(b + 1, s.step)
        delta = 1e-3 * float(self._power.mean()) + 2 * b * 1e-10
        grad = np.conj(x)
        grad *= e_spec * (mu / (self._power + delta))
        grad *= prop[:, None]
        self._w += grad
        # keep B taps per partition (no circular wrap): the newest partition every block, the others in turn
        # (Speex's alternately updated MDF; a full constraint per block would cost 2P FFTs)
        turn = self._adapted_blocks % max(1, self.partitions - 1)
        parts = [self.partitions - 1] if self.partitions == 1 else [self.partitions - 1, turn]
        taps = np.fft.irfft(self._w[parts], n=2 * b, axis=1)
        taps[:, b:] = 0.0
        self._w[parts] = np.fft.rfft(taps, axis=1)
        self._adapted_blocks += 1
        if (not self.converged and self._adapted_blocks >= s.converged_blocks
                and self.erle_db >= s.converged_erle_db):
            self.converged = True
