# Stands in for python:3.11-slim: Debian 12's Python 3.11 in a virtual environment on the PATH, so
# `python` and `pip` are that Python, as in the official image.
FROM portal-base/debian:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
         python3 python3-venv \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/python
# pip and Python's ssl module trust the system's certificates (the extra ones of debian.Dockerfile too).
ENV PATH=/opt/python/bin:$PATH PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
