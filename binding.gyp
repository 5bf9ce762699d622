{
  "targets": [
    {
      "target_name": "sendfile",
      "sources": ["native/sendfile.c"],
      "conditions": [["OS != 'linux'", { "type": "none", "sources!": ["native/sendfile.c"] }]]
    }
  ]
}
