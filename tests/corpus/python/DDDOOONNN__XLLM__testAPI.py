from openai import OpenAI

# Modify OpenAI's API key and API base to use vLLM's API server.
openai_api_key = "token-abc123"
openai_api_base = "http://localhost:8900/v1"
client = OpenAI(
    api_key=openai_api_key,
    base_url=openai_api_base,
)
completion = client.completions.create(model="/data/rjn/Qwen2-VL-7B-Instruct",
                                      prompt="Where is the capital of France?")
print("Completion result:", completion)