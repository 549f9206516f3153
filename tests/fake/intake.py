#!/usr/bin/env python3
"""A lying intake for the tests: serves HTTPS with the intake's own server
certificate (as an insider who holds IDIR could) and answers one request
with a fixed JSON body, whatever was sent.

Usage: intake.py CERT KEY PORT_FILE ANSWER_JSON_FILE
"""
import socket
import ssl
import sys


def main():
    cert, key, port_file, answer_file = sys.argv[1:5]
    answer = open(answer_file, "rb").read()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    with open(port_file + ".tmp", "w") as out:
        out.write(str(listener.getsockname()[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    listener.settimeout(60)
    raw, _ = listener.accept()
    conn = context.wrap_socket(raw, server_side=True)
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        body += conn.recv(65536)
    conn.sendall(
        b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(answer)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + answer
    )
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
