{
  "targets": [
    {
      "target_name": "keepvip_net",
      "sources": ["keepvip_net.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
