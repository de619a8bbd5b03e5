print("tusk")
