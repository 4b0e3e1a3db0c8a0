"""From a message sent to SQS to its job in the journal, with long polling:
`target/moto-venv/bin/python benches/sqs_latency.py` (the venv the SQS tests
install; moto's server stands in for SQS). Prints p50 and p90 in ms."""
import os, socket, sqlite3, subprocess, sys, tempfile, time

import boto3

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, "target/release/switchboard")
n = int(os.environ.get("MESSAGES", "40"))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
port = free_port()
moto = subprocess.Popen([os.path.join(root, "target/moto-venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
home = tempfile.mkdtemp()
engine = None
try:
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close(); break
        except OSError:
            time.sleep(0.1)
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    url = sqs.create_queue(QueueName="latency")["QueueUrl"]
    with open(os.path.join(home, "config.toml"), "w") as f:
        f.write(f'[intake.sqs]\nqueue_url = "{url}"\nregion = "us-east-1"\nendpoint_url = "{endpoint}"\nwait = "20s"\n')
    engine = subprocess.Popen([binary, "--home", home, "run", "--headless"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    sent = {}
    for i in range(n):
        prompt = f"sqs latency {i}"
        sent[prompt] = time.time() * 1000
        sqs.send_message(QueueUrl=url, MessageBody='{"type":"task","prompt":"%s"}' % prompt)
        time.sleep(0.25)
    db = sqlite3.connect(os.path.join(home, "journal.db"))
    deadline = time.time() + 60
    while time.time() < deadline:
        rows = db.execute("SELECT prompt, created_at FROM jobs").fetchall()
        if len(rows) >= n:
            break
        time.sleep(0.2)
    lat = sorted(created - sent[prompt] for prompt, created in rows)
    print(f"{len(lat)} messages: p50 {lat[len(lat)//2]:.0f} ms, p90 {lat[int(len(lat)*0.9)]:.0f} ms, max {lat[-1]:.0f} ms")
finally:
    if engine:
        engine.kill()
    subprocess.run(["tmux", "-S", os.path.join(home, "tmux/server.sock"), "kill-server"], capture_output=True)
    moto.kill()
