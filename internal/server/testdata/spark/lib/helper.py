def tag(value):
    return "tag:" + value
