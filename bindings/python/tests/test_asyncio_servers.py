"""asyncio's SelectorEventLoop on our selector: servers and clients of each kind, every byte checked.

Each test runs a loop made as users make it, ``asyncio.SelectorEventLoop(sel)`` with ``sel`` one
of our selectors, and checks that the loop really uses it. Together they drive every selector
call asyncio makes: register and unregister per connection, modify when a write must wait
(large messages fill the socket buffers, so transports pause and resume), get_map().get and
get_key per reader and writer, select with timeouts from call_later, and the self-pipe that
call_soon_threadsafe and signal handlers use.
"""

import asyncio
import os
import signal
import socket
import sys
import tempfile
import unittest

import libselectors
from selector_classes import SELECTOR_CLASSES

CLIENTS = 20
MESSAGES = (b"x", b"hello" * 13, bytes(range(256)) * 4, os.urandom(1 << 20))


def run_on(selector_class, coroutine_function):
    """Run ``coroutine_function()`` to completion on a loop over a new ``selector_class``."""
    selector = selector_class()
    loop = asyncio.SelectorEventLoop(selector)
    try:
        assert loop._selector is selector
        return loop.run_until_complete(asyncio.wait_for(coroutine_function(), 60))
    finally:
        loop.close()


async def echo(reader, writer):
    """A streams echo handler: everything read is written back."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def exchange(reader, writer, index):
    """Send each message (tagged with the client's index) and check its echo byte for byte."""
    async def send(payload):
        writer.write(payload)
        await writer.drain()

    for message in MESSAGES:
        payload = index.to_bytes(2, "big") + message
        # read while sending: a message larger than both socket buffers would deadlock otherwise
        sending = asyncio.create_task(send(payload))
        echoed = await reader.readexactly(len(payload))
        await sending
        if echoed != payload:
            raise AssertionError(f"client {index}: wrong echo")
    writer.close()
    await writer.wait_closed()
    return index


class AsyncioServersTest(unittest.TestCase):
    """Servers and clients on SelectorEventLoop over each of our selector classes."""

    def for_each_class(self, coroutine_function):
        """Run the scenario on every class that can hold the fds it needs."""
        for cls in SELECTOR_CLASSES:
            with self.subTest(cls.__name__):
                run_on(cls, coroutine_function)

    def test_tcp_streams_echo_with_concurrent_clients(self):
        async def scenario():
            server = await asyncio.start_server(echo, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            async with server:
                async def client(index):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    return await exchange(reader, writer, index)
                done = await asyncio.gather(*(client(i) for i in range(CLIENTS)))
            self.assertEqual(sorted(done), list(range(CLIENTS)))
        self.for_each_class(scenario)

    def test_unix_streams_echo(self):
        async def scenario():
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "echo.sock")
                server = await asyncio.start_unix_server(echo, path)
                async with server:
                    async def client(index):
                        reader, writer = await asyncio.open_unix_connection(path)
                        return await exchange(reader, writer, index)
                    done = await asyncio.gather(*(client(i) for i in range(CLIENTS)))
            self.assertEqual(sorted(done), list(range(CLIENTS)))
        self.for_each_class(scenario)

    def test_udp_echo(self):
        class EchoDatagrams(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, address):
                self.transport.sendto(data, address)

        class Collect(asyncio.DatagramProtocol):
            def __init__(self):
                self.received = asyncio.Queue()

            def datagram_received(self, data, address):
                self.received.put_nowait(data)

        async def scenario():
            loop = asyncio.get_running_loop()
            server, _ = await loop.create_datagram_endpoint(EchoDatagrams,
                                                            local_addr=("127.0.0.1", 0))
            address = server.get_extra_info("sockname")
            client, collector = await loop.create_datagram_endpoint(Collect,
                                                                    remote_addr=address)
            try:
                for index in range(200):
                    client.sendto(index.to_bytes(4, "big") * 16)
                    echoed = await asyncio.wait_for(collector.received.get(), 10)
                    self.assertEqual(echoed, index.to_bytes(4, "big") * 16)
            finally:
                client.close()
                server.close()
        self.for_each_class(scenario)

    def test_subprocess_pipes(self):
        async def scenario():
            data = os.urandom(300_000)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            out, _ = await process.communicate(data)
            self.assertEqual(out, data)
            self.assertEqual(process.returncode, 0)
        self.for_each_class(scenario)

    def test_low_level_socket_calls_and_timers(self):
        async def scenario():
            loop = asyncio.get_running_loop()
            left, right = socket.socketpair()
            left.setblocking(False)
            right.setblocking(False)
            with left, right:
                fired = loop.create_future()
                loop.call_later(0.05, fired.set_result, "timer")
                payload = os.urandom(2 << 20)
                sending = loop.create_task(loop.sock_sendall(left, payload))
                received = bytearray()
                while len(received) < len(payload):
                    received += await loop.sock_recv(right, 65536)
                await sending
                self.assertEqual(bytes(received), payload)
                self.assertEqual(await fired, "timer")
                # add_reader / remove_reader directly
                readable = loop.create_future()
                loop.add_reader(right, readable.set_result, "readable")
                left.send(b"!")
                self.assertEqual(await readable, "readable")
                self.assertTrue(loop.remove_reader(right))
                self.assertFalse(loop.remove_reader(right))
        self.for_each_class(scenario)

    @unittest.skipUnless(hasattr(signal, "SIGUSR1"), "needs SIGUSR1")
    def test_signal_handler_and_threadsafe_calls(self):
        async def scenario():
            loop = asyncio.get_running_loop()
            got_signal = loop.create_future()
            loop.add_signal_handler(signal.SIGUSR1, got_signal.set_result, "signal")
            try:
                loop.call_later(0.02, os.kill, os.getpid(), signal.SIGUSR1)
                self.assertEqual(await got_signal, "signal")
            finally:
                loop.remove_signal_handler(signal.SIGUSR1)
            from_thread = await loop.run_in_executor(None, lambda: "from a thread")
            self.assertEqual(from_thread, "from a thread")
        self.for_each_class(scenario)


if __name__ == "__main__":
    unittest.main()
