{
  "targets": [
    {
      "target_name": "nsm_ioctl",
      "sources": ["nsm_ioctl.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
