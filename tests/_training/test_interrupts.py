"""SigintWatch: a Ctrl-C recorded, then handled as before."""

import os
import signal
import threading

import pytest

from sklearn_cnn._training.interrupts import SigintWatch

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                                reason="sends SIGINT to this process")


def test_ctrl_c_is_recorded_and_still_raises_and_the_handler_is_back():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), SigintWatch() as watch:
        os.kill(os.getpid(), signal.SIGINT)
    assert watch.received and signal.getsignal(signal.SIGINT) is before


def test_a_block_without_ctrl_c_records_nothing():
    with SigintWatch() as watch:
        pass
    assert not watch.received


def test_the_callers_own_handler_is_called_in_turn():
    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        with SigintWatch() as watch:
            os.kill(os.getpid(), signal.SIGINT)
        assert watch.received and calls == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_it_installs_nothing():
    found = []

    def run():
        with SigintWatch() as watch:
            found.append((watch._previous, signal.getsignal(signal.SIGINT)))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert found == [(None, signal.getsignal(signal.SIGINT))]
