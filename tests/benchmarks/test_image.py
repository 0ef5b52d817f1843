"""The tools image's file list and Dockerfile, from saved ldd output (no engine needed)."""

from __future__ import annotations

from auditor.benchmarks.image import dockerfile, image_files, libraries_from_ldd

LDD_IPERF3 = """\tlinux-vdso.so.1 (0x00007fa4bf57f000)
\tlibiperf.so.0 => /lib/x86_64-linux-gnu/libiperf.so.0 (0x00007fa4bf537000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa4bf355000)
\tlibsctp.so.1 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007fa4bf581000)
"""


def test_libraries_from_ldd_skip_vdso_and_missing():
    assert libraries_from_ldd(LDD_IPERF3) == [
        "/lib/x86_64-linux-gnu/libiperf.so.0",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ]


def test_image_files_keep_host_paths():
    files = image_files({"iperf3": "/usr/bin/iperf3"}, {"iperf3": LDD_IPERF3}, "/bin/busybox")
    assert files == {
        "bin/busybox": "/bin/busybox",
        "usr/bin/iperf3": "/usr/bin/iperf3",
        "lib/x86_64-linux-gnu/libiperf.so.0": "/lib/x86_64-linux-gnu/libiperf.so.0",
        "lib/x86_64-linux-gnu/libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
        "lib64/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
    }


def test_dockerfile_labels_first_and_writable_tmp():
    text = dockerfile(
        {"io.auditor.bench": "1", "io.auditor.bench.run": "abc"}, ["/lib/x86_64-linux-gnu", "/lib64"]
    )
    lines = text.splitlines()
    assert lines[0] == "FROM scratch"
    assert lines[1] == 'LABEL "io.auditor.bench"="1" "io.auditor.bench.run"="abc"'
    assert 'RUN ["/bin/busybox", "sh", "-c", "mkdir -p /tmp && chmod 1777 /tmp"]' in lines
    assert "ENV PATH=/usr/bin:/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/lib64" in lines
