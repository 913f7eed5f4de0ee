import MVLMCore
