import Eddy
print("eddy")
