package faults

const childEnv = "MULTITRACK_FAULTS_CHILD"

func childMain() int { return 0 }
